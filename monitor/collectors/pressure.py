"""Pressure: the kernel's pressure stall information (PSI) and its OOM kills.

Sample (/proc/pressure/memory; the kernel's Documentation/accounting/psi.rst):
    some avg10=0.00 avg60=0.00 avg300=0.05 total=47643299
    full avg10=0.00 avg60=0.00 avg300=0.01 total=30119195

``some``: the share of wall time at least one task was stalled on the resource; ``full``: the
share all non-idle tasks were stalled at once (work lost). avg10/avg60/avg300 are percentages over
10 s, 60 s and 5 min; ``total`` is the stall time in µs since boot, turned here into a rate (stall
µs per second) between readings. /proc/pressure/cpu has a ``full`` line from Linux 5.13 (always 0
host-wide). A host without /proc/pressure (kernel < 4.20, or booted with psi=0) is collected fine
with ``present=False`` (the card says "no pressure information on this host"): a fact about the
host, not a failure.

OOM kills: /proc/vmstat's ``oom_kill`` (Linux 4.13+, every kill: host-wide and by a memory
cgroup's limit) is read each tick; an increase names the victims from the kernel log
(/dev/kmsg, else ``dmesg``) where it is readable ("Out of memory: Killed process 1234 (python3)").
They are kept here, in the pressure area, because an OOM kill is where memory pressure ends and
the memory area is psutil's sizes; the check ``pressure_oom_kills`` (kills in the last
``OOM_WINDOW`` seconds) turns them into an event (monitor/events.py) worded with the names.
The counting and naming live in monitor/oom.py.

History series (``series()``): ``pressure.<cpu|memory|io>.<some|full>`` (avg10, %).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from monitor.procfile import HeldFile

from .base import AreaModel, rate
from ..oom import (  # noqa: F401 - the names callers import from here
    OOM_WINDOW,
    OomKill,
    OomTracker,
    oom_count,
    read_kernel_log,
    victims,
)

PSI_DIR = Path("/proc/pressure")
VMSTAT = Path("/proc/vmstat")
RESOURCES = ("cpu", "memory", "io")


class Stall(AreaModel):
    avg10: float  # %
    avg60: float
    avg300: float
    total: int  # µs stalled since boot
    per_s: float | None  # µs stalled per second since the last reading; None on the first


class Resource(AreaModel):
    name: str  # cpu, memory, io
    some: Stall | None
    full: Stall | None  # None where the kernel has no full line (cpu before 5.13)


class Pressure(AreaModel):
    present: bool  # False: no /proc/pressure on this host (kernel < 4.20, psi=0)
    resources: list[Resource]
    oom_kills_total: int | None  # /proc/vmstat oom_kill; None when the kernel has no counter
    oom_kills_recent: int | None  # kills in the last OOM_WINDOW seconds
    oom_recent: list[OomKill]  # the ones named, newest last


def shape_psi(text: str) -> dict[str, dict[str, float]]:
    """One /proc/pressure/<resource> file -> {"some": {...}, "full": {...}}.

    >>> shape_psi("some avg10=1.50 avg60=0.20 avg300=0.00 total=1234\\n")["some"]["avg10"]
    1.5
    """
    out: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind not in ("some", "full"):
            continue
        vals = dict(p.split("=", 1) for p in rest.split() if "=" in p)
        out[kind] = {k: float(vals[k]) for k in ("avg10", "avg60", "avg300", "total")}
    return out


def shape(raw: dict[str, str] | None, prev: dict[str, str] | None, dt: float) -> list[Resource]:
    """The three files' literal text (or None: no /proc/pressure) -> resources with rates."""
    return shape_parsed(parse(raw), parse(prev), dt)


def parse(raw: dict[str, str] | None) -> dict[str, dict[str, dict[str, float]]] | None:
    return None if raw is None else {name: shape_psi(text) for name, text in raw.items()}


def shape_parsed(parsed: dict[str, dict[str, dict[str, float]]] | None,
                 prev: dict[str, dict[str, dict[str, float]]] | None, dt: float) -> list[Resource]:
    """``shape`` of the files already parsed (the collector keeps the last reading parsed)."""
    if parsed is None:
        return []
    out = []
    for name in RESOURCES:
        if name not in parsed:
            continue
        cur = parsed[name]
        old = prev[name] if prev and name in prev else {}

        def stall(kind: str) -> Stall | None:
            c = cur.get(kind)
            if c is None:
                return None
            p = old.get(kind)
            return Stall(avg10=c["avg10"], avg60=c["avg60"], avg300=c["avg300"], total=int(c["total"]),
                         per_s=rate(c["total"], p["total"] if p else None, dt))
        out.append(Resource(name=name, some=stall("some"), full=stall("full")))
    return out


def read_psi(files: Mapping[str, HeldFile]) -> dict[str, str] | None:
    """Each resource's file (the collector's, kept open: monitor/procfile.py), None when none
    could be read."""
    out = {}
    for name, f in files.items():
        try:
            out[name] = f.read_text()
        except OSError:  # psi=0: the directory exists but the files fail with EOPNOTSUPP
            continue
    return out or None


class PressureCollector:
    name = "pressure"
    model = Pressure
    # The kernel updates PSI's averages every 2 s (kernel/sched/psi.c, PSI_FREQ), and the card
    # and the checks show only averages: a read every tick found the same ones every other tick
    # (issue 19). An OOM kill is counted at most 2 s late. Four small /proc files; the kernel
    # log only when oom_kill rose.
    interval = 2.0

    def __init__(self) -> None:
        self._prev: dict[str, dict[str, dict[str, float]]] | None = None  # the last reading, parsed
        self._prev_at = time.monotonic()
        self.oom = OomTracker()
        # Read every tick: kept open and read again (monitor/procfile.py), a third of the cost.
        # No /proc/pressure (or psi=0): every file fails to open or read, and read_psi says None.
        self._psi = {name: HeldFile(PSI_DIR / name) for name in RESOURCES}
        self._vmstat = HeldFile(VMSTAT)

    def close(self) -> None:
        """The files kept open (the Sampler's close; the next read opens them again)."""
        for f in (*self._psi.values(), self._vmstat):
            f.close()

    def collect(self, now: float) -> Pressure:
        parsed = parse(read_psi(self._psi))
        resources = shape_parsed(parsed, self._prev, now - self._prev_at)
        self._prev, self._prev_at = parsed, now
        try:
            count = oom_count(self._vmstat.read_text())
        except OSError:
            count = None
        self.oom.update(count, time.time())
        return Pressure(present=parsed is not None, resources=resources, oom_kills_total=count,
                        oom_kills_recent=None if count is None else len(self.oom.kills),
                        oom_recent=list(self.oom.kills))

    def series(self, data: Pressure) -> dict[str, float]:
        return {f"pressure.{r.name}.{kind}": s.avg10 for r in data.resources
                for kind, s in (("some", r.some), ("full", r.full)) if s is not None}
