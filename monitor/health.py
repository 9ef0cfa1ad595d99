"""Judgment: thresholds -> verdicts with reasons, once per tick, in this one module.

The Sampler calls ``Judge(snapshot, history)`` after each collection; the verdicts it returns are
stored in ``snapshot.verdicts`` and are what the cards colour, /api/health answers and /metrics
exports. Sample verdicts (the non-ok ones, as ``GET /api/health?format=text`` prints them):

    CRITICAL fs_percent /var: /var is 96 % full (critical at 95 %), full in about 2 h
    WARNING  cpu_percent: CPU is 93 % busy (warning at 90 %) [top: python3 (pid 4121) 88 %, ...]

Each check measures one number per subject (a mount point, an interface, a sensor) from an area
of the snapshot; an area that is absent (not collected, unavailable, not built yet) is skipped.
A ``Tracker`` per (check, subject) keeps what needs more than one tick: the hold time (``for``)
before a state rises and the hysteresis (``clear``) before it lowers.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .thresholds import CHECKS, CheckInfo, Threshold, Thresholds, clear_levels

State = Literal["ok", "warning", "critical"]
RANK = {"ok": 0, "warning": 1, "critical": 2}
STATES: tuple[State, ...] = ("ok", "warning", "critical")


class ProcessRef(BaseModel):
    """A process worth looking at for a verdict (from the processes area of the same tick)."""
    model_config = ConfigDict(frozen=True)

    pid: int
    name: str
    cpu_percent: float | None = None
    rss: int | None = None
    ppid: int | None = None  # for a zombie, the parent that has not reaped it


class Verdict(BaseModel):
    """The judgment of one check on one subject in one snapshot."""
    model_config = ConfigDict(frozen=True)

    check: str = Field(description="threshold name, e.g. fs_percent (see README, Thresholds)")
    area: str = Field(description="the area word: cpu, memory, disks, network, sensors, processes, logs")
    subject: str = Field("", description="mount point, interface, device or sensor; empty for host-wide")
    state: State
    value: float = Field(description="the measured value, in the check's unit")
    unit: str = Field(description="%, s, /s, /min, °C, or empty for a plain number")
    threshold: float | None = Field(description="the level crossed for this state; None when ok")
    warning: float | None = Field(description="the warning level in effect")
    critical: float | None = Field(description="the critical level in effect")
    since: float = Field(description="when this state began to hold, seconds since the epoch")
    reason: str = Field(description="one line in plain words")
    top: list[ProcessRef] = Field(default_factory=list,
                                  description="top processes by the resource this check judges")

    @property
    def key(self) -> str:
        return f"{self.check}:{self.subject}" if self.subject else self.check


def worst(states: Iterable[str]) -> State:
    best: State = "ok"
    for s in states:
        if RANK.get(s, 0) > RANK[best]:
            best = s  # type: ignore[assignment]
    return best


def overall(verdicts: Iterable[Any]) -> State:
    """The overall state is the worst verdict."""
    return worst(getattr(v, "state", "ok") for v in verdicts)


# --- measuring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    value: float
    subject: str = ""
    text: str = ""  # what the reason says before the level, e.g. "/var is 93 % full"
    extra: str = ""  # appended after the level, e.g. ", full in about 2 h"
    levels: tuple[float | None, float | None] | None = None  # the subject's own (sensor high/crit)
    top: str | None = None  # "cpu", "memory" or "zombie": which processes to name


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _pct(v: float) -> str:
    """93 -> "93 %", 93.44 -> "93.4 %", 0.012 -> "0.012 %": no level is rounded across itself."""
    if v == int(v):
        return f"{v:.0f} %"
    return f"{v:.1f} %" if abs(v) >= 1 else f"{v:.2g} %"


def about(seconds: float) -> str:
    """3 h 20 min -> "about 3 h"; used in reasons ("full in about 2 h")."""
    s = max(0.0, seconds)
    for div, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if s >= div:
            return f"about {s / div:.0f} {unit}"
    return f"about {s:.0f} s"


def fmt(value: float, unit: str) -> str:
    if unit == "%":
        return _pct(value)
    if unit == "s":
        return about(value).removeprefix("about ")
    if unit == "°C":
        return f"{value:.0f} °C"
    if unit in ("/s", "/min"):
        return f"{value:.3g}{unit}"
    return f"{value:.2f}" if value != int(value) else f"{value:.0f}"


def _cpu(d) -> Iterator[tuple[str, Measurement]]:
    if (v := _num(d.percent)) is not None:
        yield "cpu_percent", Measurement(v, text=f"CPU is {_pct(v)} busy", top="cpu")
    if (v := _num(getattr(d, "iowait", None))) is not None:
        yield "cpu_iowait", Measurement(v, text=f"CPU waits on I/O {_pct(v)} of the time")
    if (v := _num(getattr(d, "steal", None))) is not None:
        yield "cpu_steal", Measurement(v, text=f"the hypervisor steals {_pct(v)} of CPU time")
    if (v := _num(getattr(d, "load_per_core", None))) is not None:
        yield "load_per_core", Measurement(
            v, text=f"load is {v:.2f} per core ({d.load1:.2f} on {d.count} cores)", top="cpu")


def _memory(d) -> Iterator[tuple[str, Measurement]]:
    yield "memory_percent", Measurement(
        d.percent, text=f"memory is {_pct(d.percent)} used", extra=f", {_gib(d.available)} available",
        top="memory")
    if d.swap_total:  # no swap configured is not a problem to judge
        yield "swap_percent", Measurement(d.swap_percent, text=f"swap is {_pct(d.swap_percent)} used",
                                          top="memory")


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _disks(d) -> Iterator[tuple[str, Measurement]]:
    for fs in getattr(d, "filesystems", []):
        mp = fs.mountpoint
        full_in = _num(getattr(fs, "full_in", None))
        if (v := _num(fs.percent)) is not None:
            extra = f", full in {about(full_in)}" if full_in is not None else ""
            yield "fs_percent", Measurement(v, mp, f"{mp} is {_pct(v)} full", extra)
        if (v := _num(getattr(fs, "inodes_percent", None))) is not None:
            yield "fs_inodes_percent", Measurement(v, mp, f"{mp} has used {_pct(v)} of its inodes")
        if full_in is not None:
            yield "fs_time_to_full", Measurement(
                full_in, mp, f"{mp} will be full in {about(full_in)}",
                f", {_pct(fs.percent)} full now" if fs.percent is not None else "")
    for dev in getattr(d, "devices", []):
        if (v := _num(getattr(dev, "busy_percent", None))) is not None:
            yield "disk_busy", Measurement(v, dev.name, f"disk {dev.name} is busy {_pct(v)} of the time")


def _network(d) -> Iterator[tuple[str, Measurement]]:
    for nic in getattr(d, "interfaces", []):
        errin, errout = _num(getattr(nic, "errin_per_s", None)), _num(getattr(nic, "errout_per_s", None))
        if errin is None and errout is None:
            continue
        v = (errin or 0.0) + (errout or 0.0)
        yield "net_errors", Measurement(v, nic.name, f"{nic.name} has {v:.3g} errors/s "
                                                     f"({errin or 0:.3g} in, {errout or 0:.3g} out)")


def _sensors(d) -> Iterator[tuple[str, Measurement]]:
    for t in getattr(d, "temperatures", []):
        v = _num(t.current)
        if v is None:
            continue
        name = t.label if t.label.startswith(t.chip) else f"{t.chip} {t.label}"
        high, crit = _num(t.high), _num(t.critical)
        yield "temperature", Measurement(
            v, name, f"{name} is at {v:.0f} °C",
            levels=(high if high and high > 0 else None, crit if crit and crit > 0 else None))


def _processes(d) -> Iterator[tuple[str, Measurement]]:
    counts = getattr(d, "counts", None) or {}
    n = counts.get("zombie", 0)
    yield "zombies", Measurement(n, text=f"{n} zombie process{'' if n == 1 else 'es'}", top="zombie")


def _logs(d) -> Iterator[tuple[str, Measurement]]:
    v = _num(getattr(d, "errors_per_minute", None))
    if v is not None:
        yield "log_errors", Measurement(
            v, text=f"{v:.0f} error line{'' if v == 1 else 's'} per minute in the logs")


# area -> what it measures. Each function reads one area's model; names are the areas' own fields.
MEASURES: dict[str, Callable[[Any], Iterable[tuple[str, Measurement]]]] = {
    "cpu": _cpu, "memory": _memory, "disks": _disks, "network": _network,
    "sensors": _sensors, "processes": _processes, "logs": _logs,
}


def top_processes(snap, kind: str | None, n: int = 3) -> list[ProcessRef]:
    """The top ``n`` processes for a resource, from the processes area of the same snapshot."""
    procs = snap.get("processes") if kind else None
    if procs is None:
        return []
    if kind == "cpu":
        rows = [r for r in getattr(procs, "top_cpu", []) if r.cpu_percent is not None]
    elif kind == "memory":
        rows = list(getattr(procs, "top_memory", []))
    else:
        rows = [r for r in getattr(procs, "rows", []) if r.status == "zombie"]
    return [ProcessRef(pid=r.pid, name=r.name, cpu_percent=r.cpu_percent, rss=r.rss, ppid=r.ppid)
            for r in rows[:n]]


# --- state over time -------------------------------------------------------------------------
@dataclass(frozen=True)
class Levels:
    warning: float | None
    critical: float | None
    for_: float
    warning_clear: float | None
    critical_clear: float | None
    direction: str = "above"

    @classmethod
    def of(cls, t: Threshold, direction: str = "above") -> Levels:
        wc, cc = clear_levels(t, direction)  # type: ignore[arg-type]
        return cls(t.warning, t.critical, t.for_, wc, cc, direction)

    def past(self, value: float, level: float | None) -> bool:
        """At or beyond ``level`` on the bad side (>= for "above", <= for "below")."""
        if level is None:
            return False
        return value >= level if self.direction == "above" else value <= level


@dataclass
class Tracker:
    """One check on one subject across ticks: hold time before rising, hysteresis before lowering."""
    state: State = "ok"
    since: float | None = None
    holding: dict[str, float] = field(default_factory=dict)  # level -> since when it holds

    def step(self, now: float, value: float, lv: Levels) -> State:
        if self.since is None:
            self.since = now
        # How long has each level held without a break (Prometheus' ``for``: a dip resets it)?
        for name, level in (("warning", lv.warning), ("critical", lv.critical)):
            if lv.past(value, level):
                self.holding.setdefault(name, now)
            else:
                self.holding.pop(name, None)
        risen: State = "ok"
        for name in ("warning", "critical"):
            start = self.holding.get(name)
            if start is not None and now - start >= lv.for_:
                risen = name  # type: ignore[assignment]
        # Hysteresis: a raised state stays until the value is back past its clear level.
        kept: State = "ok"
        if self.state == "critical" and lv.past(value, lv.critical_clear):
            kept = "critical"
        elif self.state != "ok" and lv.past(value, lv.warning_clear):
            kept = "warning"
        new = max(risen, kept, key=RANK.__getitem__)
        if new != self.state:
            # Rising: the state holds since the condition began; lowering: from now.
            self.since = self.holding.get(new, now) if RANK[new] > RANK[self.state] else now
            self.state = new
        return self.state


class Judge:
    """``judge(snapshot, history) -> [Verdict]``; keeps the trackers and feeds the event log."""

    def __init__(self, thresholds: Thresholds | None = None, events=None) -> None:
        self.thresholds = thresholds or Thresholds()
        self.events = events  # monitor.events.EventLog or None
        self._trackers: dict[str, Tracker] = {}

    def __call__(self, snap, history=None) -> list[Verdict]:
        now = snap.taken_at
        verdicts: list[Verdict] = []
        present: set[str] = set()
        for area, measure in MEASURES.items():
            data = snap.get(area)
            if data is None:
                continue  # absent or unavailable: its trackers and open events wait for it
            present.add(area)
            for name, m in measure(data):
                v = self._judge_one(snap, now, CHECKS[name][0], m)
                if v is not None:
                    verdicts.append(v)
        # A subject gone while its area is present (unmounted, interface removed): forget it.
        seen = {v.key for v in verdicts}
        for key in [k for k in self._trackers if k not in seen]:
            if CHECKS[key.split(":", 1)[0]][0].area in present:
                del self._trackers[key]
        if self.events is not None:
            self.events.update(now, verdicts, present)
        return verdicts

    def _judge_one(self, snap, now: float, info: CheckInfo, m: Measurement) -> Verdict | None:
        t = self.thresholds.effective(info.name, m.subject)
        if not t.enabled:
            return None
        if m.levels is not None:  # the sensor's own levels win over the configured ones
            t = sensor_threshold(t, *m.levels)
        lv = Levels.of(t, info.direction)
        key = f"{info.name}:{m.subject}" if m.subject else info.name
        tracker = self._trackers.setdefault(key, Tracker())
        state = tracker.step(now, m.value, lv)
        crossed = {"ok": None, "warning": t.warning, "critical": t.critical}[state]
        return Verdict(
            check=info.name, area=info.area, subject=m.subject, state=state, value=m.value,
            unit=info.unit, threshold=crossed, warning=t.warning, critical=t.critical,
            since=now if tracker.since is None else tracker.since,
            reason=reason(info, m, state, t, own=tuple(x is not None for x in m.levels or (None, None))),
            top=top_processes(snap, m.top) if state != "ok" else [],
        )


def sensor_threshold(t: Threshold, high: float | None, crit: float | None) -> Threshold:
    """Warning at the sensor's high and critical at its critical; the configured levels where
    the sensor reports none; the configured hysteresis margin below the warning level."""
    w = high if high is not None else t.warning
    c = crit if crit is not None else t.critical
    if w is not None and c is not None and w > c:
        w = c
    margin = (t.warning - t.clear) if t.warning is not None and t.clear is not None else 0.0
    clear = None if w is None else w - margin
    return Threshold(warning=w, critical=c, for_=t.for_, clear=clear, enabled=t.enabled)


def reason(info: CheckInfo, m: Measurement, state: str, t: Threshold,
           own: tuple[bool, bool] = (False, False)) -> str:
    """ "/var is 93 % full (critical at 90 %), full in about 2 h"; ``own``: (warning, critical)
    level is the subject's own (a sensor's high/critical) rather than configured."""
    word = "at" if info.direction == "above" else "under"
    whose = ("the sensor's " if own[0] else "", "the sensor's " if own[1] else "")
    if state == "critical":
        level = f"critical {word} {whose[1]}{fmt(t.critical, info.unit)}"
    elif t.warning is not None:
        level = f"warning {word} {whose[0]}{fmt(t.warning, info.unit)}"
    elif t.critical is not None:
        level = f"critical {word} {whose[1]}{fmt(t.critical, info.unit)}"
    else:
        level = "no level set"
    return f"{m.text} ({level}){m.extra}"
