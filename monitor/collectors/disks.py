"""Disks: every real filesystem (space, inodes, time to full) and every block device's I/O.

Sample (one VM disk):
    filesystems:
      /dev/vda on / ext4 rw  total=270553174016 used=24445353984 free=84498452480 percent=22.4
          inodes_used=416061 inodes_percent=2.5 fill_rate=1843.2 full_in=45843.0
    devices:
      vda  read_bytes_per_s=0.0 write_bytes_per_s=1228800.0 read_iops=0.0 write_iops=42.0
           busy_percent=3.1
    read_bytes_per_s=0.0 write_bytes_per_s=1228800.0

Each real filesystem is listed once (bind mounts in ``also_mounted_at``), fullest first, those
not answering before all; mountinfo, the pseudo-filesystem rules and the bounded statvfs (a hung
NFS mount is "not answering", never the tick) are in monitor/mounts.py. Space comes from
``os.statvfs`` (psutil.disk_usage's own source and formulas) because it also gives inodes.

``read()`` returns ``DisksRaw`` (mounts, statvfs fields or why none, I/O counters); the collector
keeps each filesystem's used space over FILL_WINDOW (monitor/trend.py); the pure
``shape(raw, prev, dt, fill_rates)`` makes the model. Mount points, devices and filesystem types
are any bytes a user with a mount (FUSE, udisks) may choose: statvfs gets the real path, and
what the model shows is cleaned (monitor/text.py).

History series (``series()``): ``disks.read_bytes_per_s``, ``disks.write_bytes_per_s``,
``disks.busy_percent`` (busiest device) and ``disks.<mountpoint>.percent`` per filesystem,
e.g. ``disks./.percent``, ``disks./var/lib.percent``.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from monitor.block_devices import BlockDevice, DiskStats, shape_devices, sum_rates  # noqa: F401 - tests import them from here
from monitor.mounts import (  # noqa: F401 - the names callers import from here
    PSEUDO_FSTYPES,
    PSEUDO_MOUNT_RE,
    STATVFS_TIMEOUT,
    TMPFS_MOUNTS,
    Mount,
    MountTable,
    Statvfs,
    is_pseudo,
    parse_mountinfo,
    real_filesystems,
)
from monitor.text import clean

from monitor.trend import Trends, slope
from monitor.trend import time_to_limit as time_to_full

from .base import AreaModel

# Time to full is claimed from a sustained rise of up to 6 h (Prometheus' node-mixin fits 6 h for
# its 24 h prediction), kept at one reading per FILL_STEP: 720 points a filesystem at most.
FILL_WINDOW = 6 * 3600.0  # seconds of used-space readings the rise is measured over
FILL_STEP = 30.0  # seconds between kept readings
FILL_RATE_WINDOW = 600.0  # seconds the shown fill rate is fitted over (what it does now)
FILL_MIN_SPAN = 60.0  # no estimate until the window covers this long (noise on a young window)


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
    fill_rate: float | None  # bytes per second over the last FILL_RATE_WINDOW; None while measuring
    full_in: float | None  # seconds until full at a sustained rise (monitor/trend.py); None when not
    full_in_over: float | None = None  # seconds the rise behind full_in was measured over
    error: str | None  # why the numbers are missing ("not answering after 0.5 s")


class Disks(AreaModel):
    filesystems: list[Filesystem]
    devices: list[BlockDevice]
    read_bytes_per_s: float | None  # sums over the devices shown
    write_bytes_per_s: float | None


@dataclass(frozen=True)
class DisksRaw:
    filesystems: Sequence[tuple[Mount, Sequence[str]]]  # each real filesystem, its other mount points
    usage: Mapping[str, Mapping[str, int] | str]  # mount point -> statvfs fields, or why none
    io: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # disk_io_counters(perdisk)


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
    """Bytes per second that ``used`` grows by: the fitted slope of (time, used) samples, None
    until they span ``min_span`` seconds (monitor/trend.py)."""
    return slope(samples, min_span)


# ---- shaping (pure) --------------------------------------------------------------------------------

NO_NUMBERS = dict.fromkeys(("total", "used", "free", "percent", "inodes_total", "inodes_used",
                            "inodes_percent", "fill_rate", "full_in"))


def shape_filesystem(m: Mount, others: Sequence[str], usage: Mapping[str, int] | str,
                     fill: float | None, rising: tuple[float, float] | None | bool = False) -> Filesystem:
    """``rising``: (rate, measured over s) of a sustained rise, None when not rising; False (not
    given): time to full from ``fill`` as it is."""
    if isinstance(usage, str):
        numbers: dict = {**NO_NUMBERS, "error": usage}
    else:
        numbers = usage_from_statvfs(usage)
        if rising is False:
            full_in, over = time_to_full(numbers["free"], fill), None
        elif rising is None:
            full_in, over = None, None
        else:
            full_in = time_to_full(numbers["free"], rising[0], over=rising[1])
            over = rising[1] if full_in is not None else None
        numbers.update(fill_rate=None if fill is None else round(fill, 1),
                       full_in=full_in, full_in_over=over, error=None)
    return Filesystem(device=clean(m.source), mountpoint=clean(m.mountpoint), fstype=clean(m.fstype),
                      read_only="ro" in m.options, also_mounted_at=[clean(o) for o in others], **numbers)


def shape(raw: DisksRaw, prev: DisksRaw | None, dt: float,
          fill_rates: Mapping[str, float | None] | None = None,
          rising: Mapping[str, tuple[float, float]] | None = None) -> Disks:
    """The model from one reading: ``prev``'s I/O counters give the rates, ``fill_rates`` (mount
    point -> bytes/s, fitted by the collector over FILL_RATE_WINDOW) the fill rate, ``rising`` (mount
    point -> (rate, measured over), only those really rising) the time to full; without
    ``rising`` the time to full is from ``fill_rates``."""
    fill_rates = fill_rates or {}
    shown = [shape_filesystem(m, others, raw.usage.get(m.mountpoint, "not read"),
                              fill_rates.get(m.mountpoint),
                              False if rising is None else rising.get(m.mountpoint))
             for m, others in raw.filesystems]
    # Fullest first, and "not answering" before all: the rows a clipped wall card must keep.
    shown.sort(key=lambda fs: (fs.error is None, -(fs.percent or 0.0), fs.mountpoint))
    io = {clean(k): v for k, v in raw.io.items()}
    prev_io = {clean(k): v for k, v in prev.io.items()} if prev is not None else None
    devices = shape_devices(io, prev_io, dt)
    return Disks(
        filesystems=shown, devices=devices,
        read_bytes_per_s=sum_rates(d.read_bytes_per_s for d in devices),
        write_bytes_per_s=sum_rates(d.write_bytes_per_s for d in devices),
    )


# ---- the collector -------------------------------------------------------------------------------

class DisksCollector:
    name = "disks"
    model = Disks
    interval = 0.0
    unwatched_interval = 2.0  # nobody looking: space moves slowly, disks_busy holds 120 s

    def __init__(self, statvfs: Callable[[str], os.statvfs_result] = os.statvfs,
                 timeout: float = STATVFS_TIMEOUT, tmpfs_mounts: Iterable[str] = ()) -> None:
        self.tmpfs_mounts = (*TMPFS_MOUNTS, *tmpfs_mounts)  # the tmpfs listed (monitor/mounts.py)
        self._statvfs = Statvfs(statvfs, timeout)
        self._mounts = MountTable(self.tmpfs_mounts)
        self._diskstats = DiskStats()
        self._used = Trends(FILL_WINDOW, FILL_MIN_SPAN, FILL_STEP, FILL_RATE_WINDOW)  # mount point -> used bytes over time
        self._prev: DisksRaw | None = None
        self._prev_at = time.monotonic()

    def read_usage(self, mountpoints: Sequence[str]) -> dict[str, dict | str]:
        """statvfs of every mount point at once, each bounded: mount point -> fields or an error."""
        return self._statvfs.read(mountpoints)

    def read(self) -> DisksRaw:
        filesystems = self._mounts.read()
        usage = self.read_usage([m.mountpoint for m, _ in filesystems])
        io = self._diskstats.read()
        return DisksRaw(filesystems, usage, io)

    def collect(self, now: float) -> Disks:
        raw = self.read()
        used = {mp: usage_from_statvfs(u)["used"] for mp, u in raw.usage.items() if not isinstance(u, str)}
        fill = self._used.add(now, used, keep=(m.mountpoint for m, _ in raw.filesystems))
        data = shape(raw, self._prev, now - self._prev_at, fill, self._used.rising)
        self._prev, self._prev_at = raw, now
        return data

    def close(self) -> None:
        """The mount table's and /proc/diskstats' open files (the next read opens them again)."""
        self._mounts.close()
        self._diskstats.close()

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
