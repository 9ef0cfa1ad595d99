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

import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

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



def _call_in_thread(fn: Callable[[], object]) -> Future:
    """Run ``fn`` in a daemon thread: a call stuck in the kernel cannot block interpreter exit."""
    fut: Future = Future()

    def run() -> None:
        try:
            fut.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)

    threading.Thread(target=run, name="statvfs", daemon=True).start()
    return fut


STATVFS_TIMEOUT = 0.5  # seconds one filesystem may take to answer before it is "not answering"
STATVFS_FIELDS = ("f_blocks", "f_bfree", "f_bavail", "f_frsize", "f_files", "f_ffree")


def read_mounts(path: str = "/proc/self/mountinfo",
                tmpfs: Iterable[str] = TMPFS_MOUNTS) -> list[tuple[Mount, list[str]]]:
    """The real filesystems of this host, each once (``real_filesystems``). Bytes decoded as the
    OS decodes paths: Mount.mountpoint is the path statvfs needs (a mount point with \\xff holds
    "\\udcff"); only the model's strings are cleaned."""
    with open(path, "rb") as f:
        return real_filesystems(parse_mountinfo(os.fsdecode(f.read())), tmpfs)


class Statvfs:
    """statvfs of many mount points at once, each bounded by ``timeout``."""

    def __init__(self, statvfs: Callable[[str], os.statvfs_result] = os.statvfs,
                 timeout: float = STATVFS_TIMEOUT) -> None:
        self._statvfs = statvfs
        self.timeout = timeout
        self._stuck: dict[str, Future] = {}  # mount point -> statvfs call that has not returned

    def read(self, mountpoints: Sequence[str]) -> dict[str, dict | str]:
        """statvfs of every mount point at once, each bounded: mount point -> fields or an error."""
        calls: dict[str, Future] = {}
        for mp in mountpoints:
            stuck = self._stuck.get(mp)
            if stuck is not None and not stuck.done():
                continue
            self._stuck.pop(mp, None)
            calls[mp] = _call_in_thread(lambda mp=mp: self._statvfs(mp))
        deadline = time.monotonic() + self.timeout
        out: dict[str, dict | str] = {}
        for mp in mountpoints:
            fut = calls.get(mp)
            if fut is None:
                out[mp] = "not answering (an earlier call is still stuck)"
                continue
            try:
                st = fut.result(timeout=max(0.0, deadline - time.monotonic()))
                out[mp] = {k: getattr(st, k) for k in STATVFS_FIELDS}
            except FutureTimeout:
                self._stuck[mp] = fut
                out[mp] = f"not answering after {self.timeout:g} s"
            except OSError as exc:
                out[mp] = f"{type(exc).__name__}: {exc.strerror or exc}"
        return out
