"""Block devices for the disks area (monitor/collectors/disks.py): which devices count, and
their I/O rates from two readings of ``psutil.disk_io_counters(perdisk=True)``.

The counters come from /proc/diskstats held open (monitor/procfile.py) and parsed here with
psutil's fields and units (``DiskStats``; issue 19: psutil opened it, split it line by line and
ran its counter-wrap bookkeeping, 0.4 ms a read). A host without /proc/diskstats is psutil's.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import psutil

from monitor.collectors.base import AreaModel, rate
from monitor.procfile import HeldFile

SECTOR = 512  # bytes: /proc/diskstats counts 512-byte sectors whatever the device's (psutil's too)
FIELDS = ("read_count", "write_count", "read_bytes", "write_bytes", "read_time", "write_time",
          "read_merged_count", "write_merged_count", "busy_time")  # psutil's sdiskio, in order

# Block devices whose I/O is not disk I/O (loop, RAM, compressed RAM) or is already counted in
# their whole disk (partitions: sda1, vda2, nvme0n1p1, mmcblk0p1).
SKIP_DEVICE_RE = re.compile(
    r"^(z?ram\d+|loop\d+|fd\d+|(h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+)$")


class BlockDevice(AreaModel):
    name: str
    read_bytes_per_s: float | None
    write_bytes_per_s: float | None
    read_iops: float | None
    write_iops: float | None
    busy_percent: float | None  # share of wall time the device had I/O in flight (io_ticks)


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


def sum_rates(values: Iterable[float | None]) -> float | None:
    """Sum of rates; None when any device has no rate yet (the first reading)."""
    values = list(values)
    if any(v is None for v in values):
        return None
    return float(sum(values))  # type: ignore[arg-type]


def parse_diskstats(data: bytes) -> dict[str, dict[str, int]]:
    """/proc/diskstats -> psutil's ``disk_io_counters(perdisk=True)`` as dicts, line by line as
    psutil reads it: 14 fields or 18 and more (4.18's discards, 5.5's flushes), 15 (2.6.25's
    extra major/minor), 7 (a 2.6 partition line); any other line is skipped, not an error."""
    out = {}
    for line in data.splitlines():
        f = line.split()
        n = len(f)
        if n == 14 or n >= 18:
            name, (reads, r_merged, r_sect, r_time, writes, w_merged, w_sect, w_time, _, busy) = \
                f[2], map(int, f[3:13])
        elif n == 15:
            name, reads = f[3], int(f[2])
            r_merged, r_sect, r_time, writes, w_merged, w_sect, w_time, _, busy = map(int, f[4:13])
        elif n == 7:
            name, (reads, r_sect, writes, w_sect) = f[2], map(int, f[3:])
            r_time = w_time = r_merged = w_merged = busy = 0
        else:
            continue
        out[name.decode("ascii", "replace")] = dict(zip(FIELDS, (
            reads, writes, r_sect * SECTOR, w_sect * SECTOR, r_time, w_time, r_merged, w_merged, busy)))
    return out


class DiskStats:
    """The disks collector's /proc/diskstats, kept open (one thread reads it at a time)."""

    def __init__(self, path: str = "/proc/diskstats") -> None:
        self._file = HeldFile(path)

    def read(self) -> dict[str, dict[str, int]]:
        try:
            data = self._file.read()
        except FileNotFoundError:  # no /proc/diskstats: psutil reads /sys/block instead
            return {k: v._asdict() for k, v in (psutil.disk_io_counters(perdisk=True) or {}).items()}
        return parse_diskstats(data)

    def close(self) -> None:
        self._file.close()
