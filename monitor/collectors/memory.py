"""Memory and swap: sizes in bytes, percentages, swap traffic per second.

Sample:
    total=25213898752 available=23011856384 percent=8.7 used=1650065408 buffers=98373632
    cached=1834917888 swap_total=0 swap_used=0 swap_percent=0.0 swap_in_per_s=None swap_out_per_s=None
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import psutil

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


class MemoryCollector:
    name = "memory"
    model = Memory
    interval = 0.0

    def __init__(self) -> None:
        self._prev: MemoryRaw | None = None
        self._prev_at = time.monotonic()

    def collect(self, now: float) -> Memory:
        raw = read()
        data = shape(raw, self._prev, now - self._prev_at)
        self._prev, self._prev_at = raw, now
        return data

    def series(self, data: Memory) -> dict[str, float]:
        return {"memory.percent": data.percent, "memory.swap_percent": data.swap_percent}
