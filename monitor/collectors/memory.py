"""Memory and swap: sizes in bytes, percentages, swap traffic per second.

Sample:
    total=25213898752 available=23011856384 percent=8.7 used=1650065408 buffers=98373632
    cached=1834917888 swap_total=0 swap_used=0 swap_percent=0.0 swap_in_per_s=None swap_out_per_s=None

Read from /proc/meminfo and /proc/vmstat held open and parsed once a read, with psutil's meanings
(issue 19: ``virtual_memory()`` and ``swap_memory()`` opened meminfo twice and vmstat once). A
kernel whose meminfo lacks what that needs (MemAvailable before 3.14, or 0; no SwapTotal) is
answered by psutil itself, with its fallbacks.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import psutil

from monitor.procfile import HeldFile, counter

from .base import AreaModel, rate


class Memory(AreaModel):
    total: int
    available: int
    percent: float  # used share as psutil computes it: (total - available) / total
    used: int
    free: int
    buffers: int | None
    cached: int | None
    shared: int | None
    swap_total: int
    swap_used: int
    swap_free: int
    swap_percent: float
    swap_in_per_s: float | None  # bytes swapped in per second (Linux: pswpin * page size)
    swap_out_per_s: float | None


@dataclass(frozen=True)
class MemoryRaw:
    vm: dict[str, float]  # virtual_memory()._asdict()
    swap: dict[str, float]  # swap_memory()._asdict(); sin/sout are cumulative bytes


def shape(raw: MemoryRaw, prev: MemoryRaw | None, dt: float) -> Memory:
    vm, sw = raw.vm, raw.swap
    return Memory(
        total=int(vm["total"]),
        available=int(vm["available"]),
        percent=round(float(vm["percent"]), 1),
        used=int(vm["used"]),
        free=int(vm["free"]),
        buffers=_opt_int(vm.get("buffers")),
        cached=_opt_int(vm.get("cached")),
        shared=_opt_int(vm.get("shared")),
        swap_total=int(sw["total"]),
        swap_used=int(sw["used"]),
        swap_free=int(sw["free"]),
        swap_percent=round(float(sw["percent"]), 1),
        swap_in_per_s=rate(sw.get("sin"), prev.swap.get("sin") if prev else None, dt),
        swap_out_per_s=rate(sw.get("sout"), prev.swap.get("sout") if prev else None, dt),
    )


def _opt_int(v: float | None) -> int | None:
    return None if v is None else int(v)


def read() -> MemoryRaw:
    return MemoryRaw(vm=psutil.virtual_memory()._asdict(), swap=psutil.swap_memory()._asdict())


def parse_meminfo(data: bytes) -> dict[bytes, int]:
    """/proc/meminfo -> {b"MemTotal:": bytes, ...}, as psutil parses it (kB * 1024)."""
    return {f[0]: int(f[1]) * 1024 for f in map(bytes.split, data.splitlines()) if len(f) >= 2}


def percent(used: int, total: int) -> float:
    """psutil's usage_percent(used, total, round_=1)."""
    return round(used / total * 100, 1) if total else 0.0


class MemoryReader:
    """The fields the area shows of psutil's virtual_memory() and swap_memory()."""

    def __init__(self, proc: str = "/proc") -> None:
        self._meminfo, self._vmstat = HeldFile(f"{proc}/meminfo"), HeldFile(f"{proc}/vmstat")

    def read(self) -> MemoryRaw:
        m = parse_meminfo(self._meminfo.read())
        total, free, avail = m.get(b"MemTotal:"), m.get(b"MemFree:"), m.get(b"MemAvailable:")
        try:
            vm = self._vmstat.read()
        except OSError:  # a sandbox without /proc/vmstat: psutil says 0 swapped, with a warning
            vm = b""
        sin, sout = counter(vm, b"pswpin"), counter(vm, b"pswpout")
        if not (total and avail and free is not None and b"SwapTotal:" in m and b"SwapFree:" in m
                and sin is not None and sout is not None):
            return read()  # an old or odd kernel: psutil's own fallbacks and warnings
        if avail > total:
            avail = free
        shared = m.get(b"Shmem:", m.get(b"MemShared:", 0))
        cached = m[b"Cached:"] + m.get(b"SReclaimable:", 0) if b"Cached:" in m else 0
        swap_total, swap_free = m[b"SwapTotal:"], m[b"SwapFree:"]
        return MemoryRaw(
            vm={"total": total, "available": avail, "percent": percent(total - avail, total),
                "used": total - avail, "free": free, "buffers": m.get(b"Buffers:", 0),
                "cached": cached, "shared": shared},
            swap={"total": swap_total, "used": swap_total - swap_free, "free": swap_free,
                  "percent": percent(swap_total - swap_free, swap_total),
                  "sin": sin * 4096, "sout": sout * 4096})  # psutil's 4 KiB, not the page size

    def close(self) -> None:
        self._meminfo.close()
        self._vmstat.close()


class MemoryCollector:
    name = "memory"
    model = Memory
    interval = 0.0

    def __init__(self) -> None:
        self._prev: MemoryRaw | None = None
        self._prev_at = time.monotonic()
        self._reader = MemoryReader()

    def collect(self, now: float) -> Memory:
        raw = self._reader.read()
        data = shape(raw, self._prev, now - self._prev_at)
        self._prev, self._prev_at = raw, now
        return data

    def close(self) -> None:
        self._reader.close()

    def series(self, data: Memory) -> dict[str, float]:
        return {"memory.percent": data.percent, "memory.swap_percent": data.swap_percent}
