"""Mounts and bounded statvfs, for the disks area (monitor/collectors/disks.py).

Mounts come from /proc/self/mountinfo (not psutil.disk_partitions) because only mountinfo tells a
bind mount from the filesystem it shows: both carry the same device number, and the bind mount's
``root`` is a sub-directory. Pseudo filesystems (proc, cgroup, tmpfs, squashfs snap images that are
always 100 % full, ...) are skipped, except the tmpfs mounts that fill up and hurt (/dev/shm, /run,
/tmp and the ``tmpfs_mounts`` setting); each filesystem is listed once, at its primary mount
point, with the other places it is mounted (bind mounts, and overlays writing to it).

Each ``os.statvfs`` runs in its own daemon thread with a short deadline (``Statvfs``): a hung NFS
server makes that one filesystem "not answering", never the tick. A mount whose call is still
stuck is not asked again until the call returns, so stuck threads cannot pile up.
"""
from __future__ import annotations

import contextlib
import os
import re
import select
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from queue import SimpleQueue

# Filesystem types that hold no user data (kernel views, memory-backed, container plumbing) or
# that are read-only images always 100 % full (squashfs: snaps, live media). Network and FUSE
# filesystems are real and kept: they are also the ones that hang.
PSEUDO_FSTYPES = frozenset({
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts",
    "devtmpfs", "efivarfs", "erofs", "fusectl", "fuse.gvfsd-fuse", "fuse.portal", "hugetlbfs",
    "iso9660", "mqueue", "nsfs", "proc", "pstore", "ramfs", "rpc_pipefs", "securityfs",
    "selinuxfs", "squashfs", "sysfs", "tmpfs", "tracefs",
})
# tmpfs mounts that fill up and hurt (shared memory, runtime state, temporary files): listed and
# judged like disks, with those named in the ``tmpfs_mounts`` setting. Other tmpfs stay pseudo.
TMPFS_MOUNTS = ("/dev/shm", "/run", "/tmp")
# Mount points under these are kernel views or another runtime's private layers (node_exporter's list).
PSEUDO_MOUNT_RE = re.compile(
    r"^/(dev|proc|sys|run/credentials/.+|run/containerd/.+|var/lib/docker/.+"
    r"|var/lib/containers/storage/.+|var/lib/kubelet/pods/.+)($|/)")


@dataclass(frozen=True)
class Mount:
    device_id: str  # "major:minor" as in mountinfo
    root: str  # the directory of the filesystem mounted here: "/" unless a bind mount
    mountpoint: str
    fstype: str
    source: str
    options: frozenset[str]
    super_options: str = ""  # the filesystem's own options (overlay: lowerdir=,upperdir=,workdir=)


_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as \040 \011 \012 \134.
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """Lines of /proc/self/mountinfo (proc(5)) -> mounts, in mount order."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        f = left.split()
        r = right.split()
        if len(f) < 6 or len(r) < 2:
            continue
        mounts.append(Mount(device_id=f[2], root=_unescape(f[3]), mountpoint=_unescape(f[4]),
                            fstype=r[0], source=_unescape(r[1]), options=frozenset(f[5].split(",")),
                            super_options=_unescape(r[2]) if len(r) > 2 else ""))
    return mounts


def is_pseudo(m: Mount, tmpfs: Iterable[str] = TMPFS_MOUNTS) -> bool:
    if m.fstype == "tmpfs" and m.mountpoint in set(tmpfs):
        return False  # a tmpfs that matters (TMPFS_MOUNTS, the tmpfs_mounts setting)
    return m.fstype in PSEUDO_FSTYPES or bool(PSEUDO_MOUNT_RE.match(m.mountpoint))


def overlay_upper(m: Mount) -> str | None:
    """An overlay's upper directory (where its writes, and so its space, go); None if read-only."""
    if m.fstype != "overlay":
        return None
    for opt in re.split(r"(?<!\\),", m.super_options):
        if opt.startswith("upperdir="):
            return opt[len("upperdir="):].replace("\\,", ",")
    return None


def _device_of(path: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"


def real_filesystems(mounts: Iterable[Mount], tmpfs: Iterable[str] = TMPFS_MOUNTS,
                     device_of: Callable[[str], str | None] = _device_of,
                     ) -> list[tuple[Mount, list[str]]]:
    """Each real filesystem once: (primary mount, other mount points of the same filesystem).

    The primary mount is the one showing the filesystem's root directory (not a bind mount of a
    sub-directory), then the shortest mount point. A mount point mounted over later keeps only
    its last mount (what a path lookup reaches). An overlay whose upper directory is on a listed
    filesystem shows that filesystem's space (statvfs answers for the upper layer): it is another
    place that filesystem is mounted, not a filesystem of its own. Order follows the mount
    points, "/" first. ``tmpfs``: the tmpfs mount points listed (``is_pseudo``).
    """
    tmpfs = frozenset(TMPFS_MOUNTS) | frozenset(tmpfs)
    last_at: dict[str, Mount] = {}
    for m in mounts:  # every mount, pseudo ones too: a tmpfs over /home hides the real /home
        last_at[m.mountpoint] = m
    by_device: dict[str, list[Mount]] = {}
    overlays: list[tuple[Mount, str]] = []
    for m in (m for m in last_at.values() if not is_pseudo(m, tmpfs)):
        upper = overlay_upper(m)
        dev = device_of(upper) if upper else None
        if dev is not None and dev != m.device_id:
            overlays.append((m, dev))
            continue
        by_device.setdefault(m.device_id, []).append(m)
    for m, dev in overlays:  # on a listed filesystem: one more place it shows; else its own row
        by_device.setdefault(dev if dev in by_device else m.device_id, []).append(m)
    out = []
    for group in by_device.values():
        group.sort(key=lambda m: (m.fstype == "overlay", m.root != "/", len(m.mountpoint), m.mountpoint))
        out.append((group[0], sorted(m.mountpoint for m in group[1:])))
    out.sort(key=lambda pair: pair[0].mountpoint)
    return out



class _Caller(threading.Thread):
    """A daemon thread that makes the calls queued to it one after another (a call stuck in the
    kernel cannot block interpreter exit). Once ``retired`` (it held a call that did not answer)
    it ends after that call instead of taking the next."""

    def __init__(self) -> None:
        super().__init__(name="statvfs", daemon=True)
        self.queue: SimpleQueue[tuple[Callable[[], object], Future]] = SimpleQueue()
        self.retired = False
        self.start()

    def run(self) -> None:
        while not self.retired:
            fn, fut = self.queue.get()
            if not fut.set_running_or_notify_cancel():
                continue  # taken back by the reader: it went to a fresh caller
            try:
                fut.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
                fut.set_exception(exc)


STATVFS_TIMEOUT = 0.5  # seconds one filesystem may take to answer before it is "not answering"
STATVFS_FIELDS = ("f_blocks", "f_bfree", "f_bavail", "f_frsize", "f_files", "f_ffree")


class MountTable:
    """The real filesystems of this host, each once (``real_filesystems``), re-read only when the
    mount table changed: the kernel marks an open
    mountinfo readable with POLLPRI|POLLERR after every mount or unmount (proc(5)), so a tick with
    no change costs one poll(2) instead of reading, parsing and deduplicating every mount."""

    def __init__(self, tmpfs: Iterable[str] = TMPFS_MOUNTS, path: str = "/proc/self/mountinfo") -> None:
        self.tmpfs, self.path = tuple(tmpfs), path
        self._fd: int | None = None
        self._poll: select.poll | None = None
        self._table: list[tuple[Mount, list[str]]] | None = None

    def read(self) -> list[tuple[Mount, list[str]]]:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            self._poll = select.poll()
            self._poll.register(self._fd, select.POLLPRI | select.POLLERR)
            self._table = None
        elif self._table is not None and not self._poll.poll(0):
            return self._table  # unchanged since the last read
        os.lseek(self._fd, 0, os.SEEK_SET)
        parts = []
        while chunk := os.read(self._fd, 1 << 16):
            parts.append(chunk)
        # Bytes decoded as the OS decodes paths: Mount.mountpoint is the path statvfs needs (a
        # mount point with \xff holds "\udcff"); only the model's strings are cleaned.
        self._table = real_filesystems(parse_mountinfo(os.fsdecode(b"".join(parts))), self.tmpfs)
        return self._table

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = self._poll = self._table = None


class Statvfs:
    """statvfs of many mount points at once, each bounded by ``timeout``."""

    def __init__(self, statvfs: Callable[[str], os.statvfs_result] = os.statvfs,
                 timeout: float = STATVFS_TIMEOUT) -> None:
        self._statvfs = statvfs
        self.timeout = timeout
        self._stuck: dict[str, Future] = {}  # mount point -> statvfs call that has not returned
        self._caller: _Caller | None = None

    def read(self, mountpoints: Sequence[str]) -> dict[str, dict | str]:
        """statvfs of every mount point, each bounded: mount point -> fields or an error.

        The calls go one after another to one long-lived thread (a thread started per mount per
        tick cost more than the calls). A call still running at its deadline is stuck: that
        thread is left to it and retired, and the calls queued behind it are taken back and
        made again by a fresh thread, each with its own full timeout."""
        calls: dict[str, Future] = {}
        pending = []
        for mp in mountpoints:
            stuck = self._stuck.get(mp)
            if stuck is not None and not stuck.done():
                continue
            self._stuck.pop(mp, None)
            pending.append(mp)
        while pending:  # once, unless a call gets stuck: then once more for those behind it
            if self._caller is None or self._caller.retired:
                self._caller = _Caller()
            for mp in pending:
                calls[mp] = Future()
                self._caller.queue.put((lambda mp=mp: self._statvfs(mp), calls[mp]))
            # The thread makes them in order, so the last one's end is the end of all: one wait
            # (one wake-up a read), not one per mount. Its error, if any, is read below.
            with contextlib.suppress(FutureTimeout):
                calls[pending[-1]].exception(timeout=self.timeout)
            left = [mp for mp in pending if not calls[mp].done()]
            if left:  # one is stuck in the kernel: leave the thread to it
                self._caller.retired = True
            pending = [mp for mp in left if calls[mp].cancel()]  # never begun: make them again
        out: dict[str, dict | str] = {}
        for mp in mountpoints:
            fut = calls.get(mp)
            if fut is None:
                out[mp] = "not answering (an earlier call is still stuck)"
                continue
            try:
                st = fut.result(timeout=0)
                out[mp] = {k: getattr(st, k) for k in STATVFS_FIELDS}
            except FutureTimeout:
                self._stuck[mp] = fut
                out[mp] = f"not answering after {self.timeout:g} s"
            except OSError as exc:
                out[mp] = f"{type(exc).__name__}: {exc.strerror or exc}"
        return out
