"""CPU: total and per-core busy percent, the time split, load average, switches per second.

Sample (2 cores, idle build machine):
    percent=3.1 per_core=[2.0, 4.1] user=1.5 system=1.0 iowait=0.0 steal=0.0 idle=96.9
    load1=0.21 load5=0.37 load15=0.39 load_per_core=0.1 ctx_switches_per_s=812 interrupts_per_s=455

Percentages are computed here from two readings of ``cpu_times`` (the same formula as
``psutil.cpu_percent``) so that shaping is a pure function of two literal readings.

A reading is one read of /proc/stat, kept open (monitor/procfile.py), parsed here into what
psutil's ``cpu_times()``, ``cpu_times(percpu=True)`` and ``cpu_stats()`` return: psutil reads the
file once for each, three times a tick, and splits the whole ``intr`` line (a count per IRQ:
thousands of numbers on a big host) for its first number (issue 19). tests/test_cpu_stat.py
compares the two on the same file.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import psutil
from pydantic import Field

from monitor.proc_stat import CLK_TCK
from monitor.procfile import HeldFile

from .base import AreaModel, counter_delta, rate

MIN_GAP = 0.2  # seconds between two readings for meaningful percentages
SPLIT_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
# psutil's names for /proc/stat's cpu columns on this kernel, in order (its ``scputimes``).
TIME_FIELDS = psutil.cpu_times()._fields


class Cpu(AreaModel):
    percent: float | None  # busy share of all cores, 0..100; None on the first reading
    per_core: list[float | None]
    user: float | None
    nice: float | None
    system: float | None
    idle: float | None
    iowait: float | None
    irq: float | None
    softirq: float | None
    steal: float | None
    load1: float
    load5: float
    load15: float
    load_per_core: float  # load1 / logical cores: above 1 means work is queueing
    count: int
    ctx_switches_per_s: float | None
    interrupts_per_s: float | None
    # Raw counters since boot, for Prometheus (node_cpu_seconds_total, node_context_switches_total).
    times: dict[str, float] = Field(default_factory=dict)  # seconds per mode, all cores (cpu_times())
    ctx_switches: int | None = None
    interrupts: int | None = None
    per_core_times: list[dict[str, float]] = Field(default_factory=list, exclude=True)


@dataclass(frozen=True)
class CpuRaw:
    times: dict[str, float]  # cpu_times()._asdict(), totals over all cores (seconds)
    per_core: list[dict[str, float]]
    ctx_switches: int
    interrupts: int
    loadavg: tuple[float, float, float]


def _total(t: dict[str, float]) -> float:
    # On Linux guest time is already counted in user/nice; psutil subtracts it the same way.
    return sum(t.values()) - t.get("guest", 0.0) - t.get("guest_nice", 0.0)


def busy_percent(cur: dict[str, float], prev: dict[str, float]) -> float | None:
    """Busy share between two cpu_times readings: everything but idle and iowait."""
    total = counter_delta(_total(cur), _total(prev))
    if total <= 0:
        return None
    idle = counter_delta(cur.get("idle", 0.0) + cur.get("iowait", 0.0),
                         prev.get("idle", 0.0) + prev.get("iowait", 0.0))
    return round(min(100.0, max(0.0, (total - idle) / total * 100)), 1)


def split_percent(cur: dict[str, float], prev: dict[str, float]) -> dict[str, float | None]:
    total = counter_delta(_total(cur), _total(prev))
    out: dict[str, float | None] = {}
    for f in SPLIT_FIELDS:
        if total <= 0 or f not in cur or f not in prev:
            out[f] = None
        else:
            out[f] = round(min(100.0, max(0.0, counter_delta(cur[f], prev[f]) / total * 100)), 1)
    return out


def shape(raw: CpuRaw, prev: CpuRaw | None, dt: float) -> Cpu:
    count = len(raw.per_core) or 1
    if prev is None:
        split: dict[str, Any] = dict.fromkeys(SPLIT_FIELDS)
        percent, per_core = None, [None] * len(raw.per_core)
    else:
        split = split_percent(raw.times, prev.times)
        percent = busy_percent(raw.times, prev.times)
        per_core = [busy_percent(c, p) for c, p in zip(raw.per_core, prev.per_core)]
    load1, load5, load15 = raw.loadavg
    return Cpu(
        percent=percent,
        per_core=per_core,
        **split,
        load1=round(load1, 2), load5=round(load5, 2), load15=round(load15, 2),
        load_per_core=round(load1 / count, 2),
        count=count,
        ctx_switches_per_s=rate(raw.ctx_switches, prev.ctx_switches if prev else None, dt),
        interrupts_per_s=rate(raw.interrupts, prev.interrupts if prev else None, dt),
        times={k: round(v, 2) for k, v in raw.times.items()},
        ctx_switches=raw.ctx_switches,
        interrupts=raw.interrupts,
        per_core_times=raw.per_core,
    )


def parse_stat(data: bytes, loadavg: tuple[float, float, float]) -> CpuRaw:
    """/proc/stat's text as psutil reads it: the ``cpu`` line as ``cpu_times()``, the ``cpuN``
    lines in order as ``cpu_times(percpu=True)`` (seconds: clock ticks / CLK_TCK), ``ctxt`` and
    the first number of ``intr`` as ``cpu_stats()``'s ctx_switches and interrupts."""
    times: dict[str, float] = {}
    per_core: list[dict[str, float]] = []
    ctxt = intr = 0
    n = len(TIME_FIELDS)
    for line in data.split(b"\n"):
        if line.startswith(b"cpu"):
            parts = line.split(None, n + 1)
            row = dict(zip(TIME_FIELDS, (float(x) / CLK_TCK for x in parts[1:n + 1])))
            if parts[0] == b"cpu":
                times = row
            else:
                per_core.append(row)
        elif line.startswith(b"ctxt "):
            ctxt = int(line.split()[1])
        elif line.startswith(b"intr "):
            intr = int(line.split(None, 2)[1])  # the total; the rest are per IRQ
    return CpuRaw(times=times, per_core=per_core, ctx_switches=ctxt, interrupts=intr,
                  loadavg=loadavg)


def read(stat: HeldFile) -> CpuRaw:
    return parse_stat(stat.read(), os.getloadavg())


class CpuCollector:
    name = "cpu"
    model = Cpu
    interval = 0.0

    def __init__(self, stat: str = "/proc/stat") -> None:
        self._stat = HeldFile(stat)
        # Prime with a first reading so the very first tick already has real percentages.
        self._prev: CpuRaw | None = read(self._stat)
        self._prev_at = time.monotonic()

    def collect(self, now: float) -> Cpu:  # now: time.monotonic()
        # Kernel CPU times tick every 10 ms: two readings closer than that say nothing. Only the
        # very first collection, right after start-up, can be that close; wait it out (in the
        # worker thread, not on the event loop).
        gap = time.monotonic() - self._prev_at
        if gap < MIN_GAP:
            time.sleep(MIN_GAP - gap)
            now = time.monotonic()
        raw = read(self._stat)
        data = shape(raw, self._prev, now - self._prev_at)
        self._prev, self._prev_at = raw, now
        return data

    def close(self) -> None:
        self._stat.close()

    def series(self, data: Cpu) -> dict[str, float]:
        out = {"cpu.load1": data.load1, "cpu.load_per_core": data.load_per_core}
        if data.percent is not None:
            out["cpu.percent"] = data.percent
        if data.iowait is not None:
            out["cpu.iowait"] = data.iowait
        return out
