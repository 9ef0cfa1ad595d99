"""Disks: every real filesystem (space, inodes, time to full) and every block device's I/O.

Sample (one VM disk):
    filesystems:
      /dev/vda on / ext4 rw  total=270553174016 used=24445353984 free=84498452480 percent=22.4
          inodes_used=416061 inodes_percent=2.5 fill_rate=1843.2 full_in=45843.0
    devices:
      vda  read_bytes_per_s=0.0 write_bytes_per_s=1228800.0 read_iops=0.0 write_iops=42.0
           busy_percent=3.1
    read_bytes_per_s=0.0 write_bytes_per_s=1228800.0

Mounts come from /proc/self/mountinfo (not psutil.disk_partitions) because only mountinfo tells a
bind mount from the filesystem it shows: both carry the same device number, and the bind mount's
``root`` is a sub-directory. Pseudo filesystems (proc, cgroup, tmpfs, squashfs snap images that are
always 100 % full, ...) are skipped, and each filesystem is listed once, at its primary mount
point, with the other places it is mounted in ``also_mounted_at``. ``filesystems`` is ordered
fullest first, those not answering before all.

Space comes from ``os.statvfs`` (psutil.disk_usage's own source, with the same formulas) because
it also gives inode counts. Each statvfs runs in its own daemon thread with a short deadline: a
hung NFS server makes that one filesystem "not answering", never the tick. A mount whose call is
still stuck is not asked again until the call returns, so stuck threads cannot pile up.

Mount points, devices and filesystem types are any bytes a user with a mount (FUSE, udisks) may
choose: mountinfo is read as bytes and decoded like the kernel's own paths (surrogateescape), so
statvfs gets the real path, and what the model shows is cleaned (monitor/text.py: invalid UTF-8
as U+FFFD, controls and bidi marks as visible escapes).

History series (``series()``): ``disks.read_bytes_per_s``, ``disks.write_bytes_per_s``,
``disks.busy_percent`` (busiest device) and ``disks.<mountpoint>.percent`` per filesystem,
e.g. ``disks./.percent``, ``disks./var/lib.percent``.
"""
from __future__ import annotations

import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import psutil

from monitor.text import clean

from .base import AreaModel, rate

# Filesystem types that hold no user data (kernel views, memory-backed, container plumbing) or
# that are read-only images always 100 % full (squashfs: snaps, live media). Network and FUSE
# filesystems are real and kept: they are also the ones that hang.
PSEUDO_FSTYPES = frozenset({
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts",
    "devtmpfs", "efivarfs", "erofs", "fusectl", "fuse.gvfsd-fuse", "fuse.portal", "hugetlbfs",
    "iso9660", "mqueue", "nsfs", "proc", "pstore", "ramfs", "rpc_pipefs", "securityfs",
    "selinuxfs", "squashfs", "sysfs", "tmpfs", "tracefs",
})
# Mount points under these are kernel views or another runtime's private layers (node_exporter's list).
PSEUDO_MOUNT_RE = re.compile(
    r"^/(dev|proc|sys|run/credentials/.+|run/containerd/.+|var/lib/docker/.+"
    r"|var/lib/containers/storage/.+|var/lib/kubelet/pods/.+)($|/)")
# Block devices whose I/O is not disk I/O (loop, RAM, compressed RAM) or is already counted in
# their whole disk (partitions: sda1, vda2, nvme0n1p1, mmcblk0p1).
SKIP_DEVICE_RE = re.compile(
    r"^(z?ram\d+|loop\d+|fd\d+|(h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+)$")

FILL_WINDOW = 600.0  # seconds of used-space readings the fill rate is fitted over
FILL_MIN_SPAN = 60.0  # no estimate until the window covers this long (noise on a young window)
STATVFS_TIMEOUT = 0.5  # seconds one filesystem may take to answer before it is "not answering"


class Filesystem(AreaModel):
    device: str
    mountpoint: str
    fstype: str
    read_only: bool
    also_mounted_at: list[str]  # bind mounts and repeated mounts of the same filesystem
    total: int | None  # bytes; None when the filesystem did not answer
    used: int | None
    free: int | None  # available to unprivileged users, as df shows it
    percent: float | None  # used / (used + free), df's and psutil's formula
    inodes_total: int | None  # None when the filesystem has no fixed inode table (btrfs)
    inodes_used: int | None
    inodes_percent: float | None
    fill_rate: float | None  # bytes per second over the last FILL_WINDOW; None while measuring
    full_in: float | None  # seconds until full at fill_rate; None when not filling
    error: str | None  # why the numbers are missing ("not answering after 0.5 s")


class BlockDevice(AreaModel):
    name: str
    read_bytes_per_s: float | None
    write_bytes_per_s: float | None
    read_iops: float | None
    write_iops: float | None
    busy_percent: float | None  # share of wall time the device had I/O in flight (io_ticks)


class Disks(AreaModel):
    filesystems: list[Filesystem]
    devices: list[BlockDevice]
    read_bytes_per_s: float | None  # sums over the devices shown
    write_bytes_per_s: float | None


@dataclass(frozen=True)
class Mount:
    device_id: str  # "major:minor" as in mountinfo
    root: str  # the directory of the filesystem mounted here: "/" unless a bind mount
    mountpoint: str
    fstype: str
    source: str
    options: frozenset[str]


# ---- mounts -------------------------------------------------------------------------------------

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
                            fstype=r[0], source=_unescape(r[1]), options=frozenset(f[5].split(","))))
    return mounts


def is_pseudo(m: Mount) -> bool:
    return m.fstype in PSEUDO_FSTYPES or bool(PSEUDO_MOUNT_RE.match(m.mountpoint))


def real_filesystems(mounts: Iterable[Mount]) -> list[tuple[Mount, list[str]]]:
    """Each real filesystem once: (primary mount, other mount points of the same filesystem).

    The primary mount is the one showing the filesystem's root directory (not a bind mount of a
    sub-directory), then the shortest mount point. A mount point mounted over later keeps only
    its last mount (what a path lookup reaches). Order follows the mount points, "/" first.
    """
    last_at: dict[str, Mount] = {}
    for m in mounts:  # every mount, pseudo ones too: a tmpfs over /home hides the real /home
        last_at[m.mountpoint] = m
    by_device: dict[str, list[Mount]] = {}
    for m in (m for m in last_at.values() if not is_pseudo(m)):
        by_device.setdefault(m.device_id, []).append(m)
    out = []
    for group in by_device.values():
        group.sort(key=lambda m: (m.root != "/", len(m.mountpoint), m.mountpoint))
        out.append((group[0], sorted(m.mountpoint for m in group[1:])))
    out.sort(key=lambda pair: pair[0].mountpoint)
    return out


# ---- space ---------------------------------------------------------------------------------------

def usage_from_statvfs(st: Mapping[str, int]) -> dict[str, int | float | None]:
    """os.statvfs fields -> sizes in bytes and percentages (psutil.disk_usage's formulas)."""
    total = st["f_blocks"] * st["f_frsize"]
    free = st["f_bavail"] * st["f_frsize"]
    used = (st["f_blocks"] - st["f_bfree"]) * st["f_frsize"]
    seen = used + free  # root's reserved blocks excluded, as df does
    inodes_total = st["f_files"] or None
    inodes_used = st["f_files"] - st["f_ffree"] if inodes_total else None
    return {
        "total": total, "used": used, "free": free,
        "percent": round(used / seen * 100, 1) if seen else 0.0,
        "inodes_total": inodes_total,
        "inodes_used": inodes_used,
        "inodes_percent": round(inodes_used / inodes_total * 100, 1) if inodes_total else None,
    }


def fill_rate(samples: Sequence[tuple[float, float]], min_span: float = FILL_MIN_SPAN) -> float | None:
    """Bytes per second that ``used`` grows by: least-squares slope of (time, used) samples.

    A fitted slope, not first-to-last, so one burst of writes or one deleted file at the edge of
    the window does not swing the estimate. None until the samples span ``min_span`` seconds.
    """
    if len(samples) < 2 or samples[-1][0] - samples[0][0] < min_span:
        return None
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mu = sum(u for _, u in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    if var <= 0:
        return None
    return sum((t - mt) * (u - mu) for t, u in samples) / var


def time_to_full(free: float | None, rate_: float | None) -> float | None:
    """Seconds until ``free`` bytes are gone at ``rate_`` bytes/s; None when not filling."""
    if free is None or rate_ is None or rate_ <= 0:
        return None
    return free / rate_


# ---- block devices -------------------------------------------------------------------------------

def shape_devices(cur: Mapping[str, Mapping[str, int]], prev: Mapping[str, Mapping[str, int]] | None,
                  dt: float) -> list[BlockDevice]:
    """disk_io_counters(perdisk=True) as dicts, two readings -> per-device rates."""
    out = []
    for name in sorted(cur):
        if SKIP_DEVICE_RE.match(name):
            continue
        c = cur[name]
        p = (prev or {}).get(name)

        def r(field: str) -> float | None:
            return rate(c.get(field), p.get(field) if p else None, dt)

        busy_ms = r("busy_time")  # milliseconds busy per second -> percent
        out.append(BlockDevice(
            name=name,
            read_bytes_per_s=r("read_bytes"), write_bytes_per_s=r("write_bytes"),
            read_iops=r("read_count"), write_iops=r("write_count"),
            busy_percent=None if busy_ms is None else round(min(100.0, busy_ms / 10), 1),
        ))
    return out


def _sum(values: Iterable[float | None]) -> float | None:
    """Sum of rates; None when any device has no rate yet (the first reading)."""
    values = list(values)
    if any(v is None for v in values):
        return None
    return float(sum(values))  # type: ignore[arg-type]


# ---- reading, bounded ------------------------------------------------------------------------------

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


class DisksCollector:
    name = "disks"
    model = Disks
    interval = 0.0

    def __init__(self, statvfs: Callable[[str], os.statvfs_result] = os.statvfs,
                 timeout: float = STATVFS_TIMEOUT) -> None:
        self._statvfs = statvfs
        self._timeout = timeout
        self._stuck: dict[str, Future] = {}  # mount point -> statvfs call that has not returned
        self._used: dict[str, deque[tuple[float, float]]] = {}  # mount point -> (time, used)
        self._prev_io: dict[str, dict[str, int]] | None = None
        self._prev_at = time.monotonic()

    def read_usage(self, mountpoints: Sequence[str]) -> dict[str, dict | str]:
        """statvfs of every mount point at once, each bounded: mount point -> fields or an error."""
        calls: dict[str, Future] = {}
        for mp in mountpoints:
            stuck = self._stuck.get(mp)
            if stuck is not None and not stuck.done():
                continue
            self._stuck.pop(mp, None)
            calls[mp] = _call_in_thread(lambda mp=mp: self._statvfs(mp))
        deadline = time.monotonic() + self._timeout
        out: dict[str, dict | str] = {}
        for mp in mountpoints:
            fut = calls.get(mp)
            if fut is None:
                out[mp] = "not answering (an earlier call is still stuck)"
                continue
            try:
                st = fut.result(timeout=max(0.0, deadline - time.monotonic()))
                out[mp] = {k: getattr(st, k) for k in
                           ("f_blocks", "f_bfree", "f_bavail", "f_frsize", "f_files", "f_ffree")}
            except FutureTimeout:
                self._stuck[mp] = fut
                out[mp] = f"not answering after {self._timeout:g} s"
            except OSError as exc:
                out[mp] = f"{type(exc).__name__}: {exc.strerror or exc}"
        return out

    def collect(self, now: float) -> Disks:
        # Bytes decoded as the OS decodes paths: Mount.mountpoint is the path statvfs needs
        # (a mount point with \xff holds "\udcff"); only the model's strings are cleaned.
        with open("/proc/self/mountinfo", "rb") as f:
            filesystems = real_filesystems(parse_mountinfo(os.fsdecode(f.read())))
        usage = self.read_usage([m.mountpoint for m, _ in filesystems])
        shown = []
        for m, others in filesystems:
            u = usage[m.mountpoint]
            if isinstance(u, str):
                numbers: dict = dict.fromkeys(("total", "used", "free", "percent", "inodes_total",
                                               "inodes_used", "inodes_percent"))
                numbers.update(fill_rate=None, full_in=None, error=u)
            else:
                numbers = usage_from_statvfs(u)
                window = self._used.setdefault(m.mountpoint, deque())
                window.append((now, float(numbers["used"])))
                while window and window[0][0] < now - FILL_WINDOW:
                    window.popleft()
                fr = fill_rate(list(window))
                numbers.update(fill_rate=None if fr is None else round(fr, 1),
                               full_in=time_to_full(numbers["free"], fr), error=None)
            shown.append(Filesystem(
                device=clean(m.source), mountpoint=clean(m.mountpoint), fstype=clean(m.fstype),
                read_only="ro" in m.options, also_mounted_at=[clean(o) for o in others], **numbers))
        # Fullest first, and "not answering" before all: the rows a clipped wall card must keep.
        shown.sort(key=lambda fs: (fs.error is None, -(fs.percent or 0.0), fs.mountpoint))
        # Forget windows of unmounted filesystems.
        for mp in set(self._used) - {m.mountpoint for m, _ in filesystems}:
            del self._used[mp]

        io = {clean(k): v._asdict() for k, v in (psutil.disk_io_counters(perdisk=True) or {}).items()}
        devices = shape_devices(io, self._prev_io, now - self._prev_at)
        self._prev_io, self._prev_at = io, now
        return Disks(
            filesystems=shown, devices=devices,
            read_bytes_per_s=_sum(d.read_bytes_per_s for d in devices),
            write_bytes_per_s=_sum(d.write_bytes_per_s for d in devices),
        )

    def series(self, data: Disks) -> dict[str, float]:
        out: dict[str, float] = {}
        if data.read_bytes_per_s is not None and data.write_bytes_per_s is not None:
            out["disks.read_bytes_per_s"] = data.read_bytes_per_s
            out["disks.write_bytes_per_s"] = data.write_bytes_per_s
        busy = [d.busy_percent for d in data.devices if d.busy_percent is not None]
        if busy:
            out["disks.busy_percent"] = max(busy)
        for fs in data.filesystems:
            if fs.percent is not None:
                out[f"disks.{fs.mountpoint}.percent"] = fs.percent
        return out
