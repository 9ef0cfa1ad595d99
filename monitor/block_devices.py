"""Block devices for the disks area (monitor/collectors/disks.py): which devices count, and
their I/O rates from two readings of ``psutil.disk_io_counters(perdisk=True)``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from monitor.collectors.base import AreaModel, rate

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
