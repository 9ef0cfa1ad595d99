"""Judgment: thresholds -> verdicts with reasons, once per tick, in this one module.

The Sampler calls ``Judge(snapshot, history)`` after each collection; the verdicts it returns are
stored in ``snapshot.verdicts`` and are what the cards colour, /api/health answers and /metrics
exports. Sample verdicts (the non-ok ones, as ``GET /api/health?format=text`` prints them):

    CRITICAL fs_percent /var: /var is 96 % full (critical at 95 %), full in about 2 h
    WARNING  cpu_percent: CPU is 93 % busy (warning at 90 %) [top: python3 (pid 4121) 88 %, ...]

Each check measures one number per subject (a mount point, an interface, a sensor) from an area
of the snapshot. A ``Tracker`` per (check, subject) keeps what needs more than one tick: the hold
time (``for``) before a state rises and the hysteresis (``clear``) before it lowers.

Verdicts fail closed: what cannot be judged is ``unknown`` with a reason, never silently ok.
- A check whose measure raises (or reads NaN/Infinity) on one subject: that (check, subject) is
  unknown; every other check and subject is judged as usual.
- An area the sampler lists in ``snapshot.unavailable`` (its collection failed, hung, or has not
  finished for the first time yet): each of its checks is unknown, one verdict per subject judged
  before (its trackers' keys), or one per enabled check with no subject when it was never
  collected. An area that is in neither ``areas`` nor ``unavailable`` is not configured on this
  console (no collector): it has no checks, which is not unknown.
- An unknown tick steps no tracker: hold time and hysteresis carry on from the last real value,
  and the event log keeps its open episodes open (monitor/events.py).
- Judging as a whole failing (it raised or overran its budget, see monitor/sampler.py) leaves the
  snapshot without verdicts and with ``judge_error``: ``state(snap)`` is then unknown.

Severity, for the overall state and sorting: critical > unknown > warning > ok. A check that
cannot be judged might hide a critical, so it outranks a known warning; a known critical stays
the headline. /metrics exports the states as 0 ok, 1 warning, 2 critical, 3 unknown (``VALUE``).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .thresholds import CHECKS, CheckInfo, Threshold, Thresholds, clear_levels

State = Literal["ok", "warning", "critical", "unknown"]
RANK = {"ok": 0, "warning": 1, "critical": 2}  # the levels a tracker moves between
STATES: tuple[State, ...] = ("ok", "warning", "critical", "unknown")
SEVERITY = {"ok": 0, "warning": 1, "unknown": 2, "critical": 3}  # worst first: see the docstring
VALUE = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}  # server_monitor_verdict_state

log = logging.getLogger("server_monitor.health")


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
    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    check: str = Field(description="threshold name, e.g. fs_percent (see README, Thresholds)")
    area: str = Field(description="the area word: cpu, memory, disks, network, sensors, processes, logs")
    subject: str = Field("", description="mount point, interface, device or sensor; empty for host-wide")
    state: State = Field(description="ok, warning, critical, or unknown: could not be judged (see reason)")
    value: float | None = Field(description="the measured value, in the check's unit; null when unknown")
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
        if SEVERITY.get(s, SEVERITY["unknown"]) > SEVERITY[best]:
            best = s if s in SEVERITY else "unknown"  # type: ignore[assignment]
    return best


def overall(verdicts: Iterable[Any]) -> State:
    """The worst verdict (see SEVERITY)."""
    return worst(getattr(v, "state", "ok") for v in verdicts)


def state(snap) -> State:
    """A snapshot's overall state: unknown when judging failed, else the worst verdict."""
    return "unknown" if getattr(snap, "judge_error", None) else overall(snap.verdicts)


def unknown_reason(snap) -> str | None:
    """Why a snapshot's state is unknown, in one line; None when it is not."""
    if getattr(snap, "judge_error", None):
        return f"not judged: {snap.judge_error}"
    n = sum(1 for v in snap.verdicts if v.state == "unknown")
    if not n or state(snap) != "unknown":
        return None
    return f"{n} check{'' if n == 1 else 's'} could not be judged"


# --- measuring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    value: float
    text: str = ""  # what the reason says before the level, e.g. "/var is 93 % full"
    extra: str = ""  # appended after the level, e.g. ", full in about 2 h"
    levels: tuple[float | None, float | None] | None = None  # the subject's own (sensor high/crit)
    top: str | None = None  # "cpu", "memory" or "zombie": which processes to name


def _num(v: Any) -> float | None:
    """A reading as a float; None when there is none. NaN or Infinity is not "no reading" but
    bad data: it raises, so the check is unknown rather than skipped."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f):
        raise ValueError(f"the reading is {f}, not a number")
    return f


def _level(v: Any) -> float | None:
    """A sensor's own level: a missing, zero or non-finite one means "none" (the configured)."""
    f = v if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    return f if f is not None and math.isfinite(f) and f > 0 else None


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


# One Measure per check: ``subjects(data)`` lists the (subject, item) pairs of an area (mounts,
# interfaces, sensors; host-wide checks have one, ("", data)), ``measure(item)`` reads one number
# or None (nothing to judge: no swap, a first reading without rates). Kept apart so that a subject
# whose data breaks the measure makes only that (check, subject) unknown.
@dataclass(frozen=True)
class Measure:
    check: str
    measure: Callable[[Any], Measurement | None]
    subjects: Callable[[Any], Iterable[tuple[str, Any]]] = lambda d: [("", d)]


def _cpu_percent(d) -> Measurement | None:
    v = _num(d.percent)
    return None if v is None else Measurement(v, text=f"CPU is {_pct(v)} busy", top="cpu")


def _cpu_iowait(d) -> Measurement | None:
    v = _num(getattr(d, "iowait", None))
    return None if v is None else Measurement(v, text=f"CPU waits on I/O {_pct(v)} of the time")


def _cpu_steal(d) -> Measurement | None:
    v = _num(getattr(d, "steal", None))
    return None if v is None else Measurement(v, text=f"the hypervisor steals {_pct(v)} of CPU time")


def _load(d) -> Measurement | None:
    v = _num(getattr(d, "load_per_core", None))
    return None if v is None else Measurement(
        v, text=f"load is {v:.2f} per core ({d.load1:.2f} on {d.count} cores)", top="cpu")


def _memory_percent(d) -> Measurement | None:
    v = _num(d.percent)
    return None if v is None else Measurement(
        v, text=f"memory is {_pct(v)} used", extra=f", {_gib(d.available)} available", top="memory")


def _swap_percent(d) -> Measurement | None:
    if not d.swap_total:  # no swap configured is not a problem to judge
        return None
    v = _num(d.swap_percent)
    return None if v is None else Measurement(v, text=f"swap is {_pct(v)} used", top="memory")


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _filesystems(d) -> Iterable[tuple[str, Any]]:
    return [(fs.mountpoint, fs) for fs in getattr(d, "filesystems", [])]


def _fs_percent(fs) -> Measurement | None:
    v, full_in = _num(fs.percent), _num(getattr(fs, "full_in", None))
    extra = f", full in {about(full_in)}" if full_in is not None else ""
    return None if v is None else Measurement(v, text=f"{fs.mountpoint} is {_pct(v)} full", extra=extra)


def _fs_inodes(fs) -> Measurement | None:
    v = _num(getattr(fs, "inodes_percent", None))
    return None if v is None else Measurement(v, text=f"{fs.mountpoint} has used {_pct(v)} of its inodes")


def _fs_time_to_full(fs) -> Measurement | None:
    full_in, pct = _num(getattr(fs, "full_in", None)), _num(fs.percent)
    return None if full_in is None else Measurement(
        full_in, text=f"{fs.mountpoint} will be full in {about(full_in)}",
        extra=f", {_pct(pct)} full now" if pct is not None else "")


def _devices(d) -> Iterable[tuple[str, Any]]:
    return [(dev.name, dev) for dev in getattr(d, "devices", [])]


def _disk_busy(dev) -> Measurement | None:
    v = _num(getattr(dev, "busy_percent", None))
    return None if v is None else Measurement(v, text=f"disk {dev.name} is busy {_pct(v)} of the time")


def _interfaces(d) -> Iterable[tuple[str, Any]]:
    return [(nic.name, nic) for nic in getattr(d, "interfaces", [])]


def _net_errors(nic) -> Measurement | None:
    errin, errout = _num(getattr(nic, "errin_per_s", None)), _num(getattr(nic, "errout_per_s", None))
    if errin is None and errout is None:
        return None
    v = (errin or 0.0) + (errout or 0.0)
    return Measurement(v, text=f"{nic.name} has {v:.3g} errors/s ({errin or 0:.3g} in, {errout or 0:.3g} out)")


def _temperatures(d) -> Iterable[tuple[str, Any]]:
    return [(t.label if t.label.startswith(t.chip) else f"{t.chip} {t.label}", t)
            for t in getattr(d, "temperatures", [])]


def _temperature(t) -> Measurement | None:
    v = _num(t.current)
    if v is None:
        return None
    name = t.label if t.label.startswith(t.chip) else f"{t.chip} {t.label}"
    return Measurement(v, text=f"{name} is at {v:.0f} °C", levels=(_level(t.high), _level(t.critical)))


def _zombies(d) -> Measurement | None:
    n = (getattr(d, "counts", None) or {}).get("zombie", 0)
    return Measurement(n, text=f"{n} zombie process{'' if n == 1 else 'es'}", top="zombie")


def _log_errors(d) -> Measurement | None:
    v = _num(getattr(d, "errors_per_minute", None))
    return None if v is None else Measurement(
        v, text=f"{v:.0f} error line{'' if v == 1 else 's'} per minute in the logs")


# area -> its checks, each reading the area model's own fields.
MEASURES: dict[str, list[Measure]] = {
    "cpu": [Measure("cpu_percent", _cpu_percent), Measure("cpu_iowait", _cpu_iowait),
            Measure("cpu_steal", _cpu_steal), Measure("load_per_core", _load)],
    "memory": [Measure("memory_percent", _memory_percent), Measure("swap_percent", _swap_percent)],
    "disks": [Measure("fs_percent", _fs_percent, _filesystems),
              Measure("fs_inodes_percent", _fs_inodes, _filesystems),
              Measure("fs_time_to_full", _fs_time_to_full, _filesystems),
              Measure("disk_busy", _disk_busy, _devices)],
    "network": [Measure("net_errors", _net_errors, _interfaces)],
    "sensors": [Measure("temperature", _temperature, _temperatures)],
    "processes": [Measure("zombies", _zombies)],
    "logs": [Measure("log_errors", _log_errors)],
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
        self._unknown_since: dict[str, float] = {}  # key -> since when it cannot be judged

    def __call__(self, snap, history=None) -> list[Verdict]:
        now = snap.taken_at
        verdicts: list[Verdict] = []
        present: set[str] = set()
        for area, checks in MEASURES.items():
            data = snap.get(area)
            if data is None:
                if area in snap.unavailable:  # configured but unreadable: unknown, not skipped
                    verdicts += self._unreadable(now, area, checks, snap.unavailable[area])
                continue
            present.add(area)
            for check in checks:
                verdicts += self._judge_check(snap, now, check, data)
        states = {v.key: v.state for v in verdicts}
        seen = set(states)
        for key in [k for k in self._unknown_since if states.get(k) != "unknown"]:
            del self._unknown_since[key]  # judged again (or gone): a later spell starts afresh
        # A subject gone while its area is present (unmounted, interface removed): forget it.
        for key in [k for k in self._trackers if k not in seen]:
            if CHECKS[key.split(":", 1)[0]][0].area in present:
                del self._trackers[key]
        if self.events is not None:
            self.events.update(now, verdicts, present)
        return verdicts

    def _judge_check(self, snap, now: float, check: Measure, data) -> list[Verdict]:
        info = CHECKS[check.check][0]
        try:
            subjects = list(check.subjects(data))
        except Exception as exc:  # noqa: BLE001 - the area's shape is broken: the check is unknown
            return [v for v in [self._unknown(now, info, "", _why(exc))] if v is not None]
        out = []
        for subject, item in subjects:
            try:
                m = check.measure(item)
                v = None if m is None else self._judge_one(snap, now, info, subject, m)
            except Exception as exc:  # noqa: BLE001 - one bad subject, not the whole judgment
                v = self._unknown(now, info, subject, _why(exc))
            if v is not None:
                out.append(v)
        return out

    def _unreadable(self, now: float, area: str, checks: list[Measure], why: str) -> list[Verdict]:
        """Every check of an unreadable area: the subjects judged before, or each check once."""
        known = [k for k in self._trackers if CHECKS[k.split(":", 1)[0]][0].area == area]
        keys = known or [c.check for c in checks]
        out = []
        for key in keys:
            name, _, subject = key.partition(":")
            v = self._unknown(now, CHECKS[name][0], subject, f"{area} could not be read: {why}")
            if v is not None:
                out.append(v)
        return out

    def _unknown(self, now: float, info: CheckInfo, subject: str, why: str) -> Verdict | None:
        t = self.thresholds.effective(info.name, subject)
        if not t.enabled:
            return None
        key = f"{info.name}:{subject}" if subject else info.name
        if key not in self._unknown_since:  # once per spell, not once per tick
            self._unknown_since[key] = now
            log.warning("%s cannot be judged: %s", key, why)
        who = f"{info.label} of {subject}" if subject else info.label
        return Verdict(check=info.name, area=info.area, subject=subject, state="unknown", value=None,
                       unit=info.unit, threshold=None, warning=t.warning, critical=t.critical,
                       since=self._unknown_since[key], reason=f"{who} cannot be judged: {why}")

    def _judge_one(self, snap, now: float, info: CheckInfo, subject: str, m: Measurement) -> Verdict | None:
        t = self.thresholds.effective(info.name, subject)
        if not t.enabled:
            return None
        if m.levels is not None:  # the sensor's own levels win over the configured ones
            t = sensor_threshold(t, *m.levels)
        lv = Levels.of(t, info.direction)
        key = f"{info.name}:{subject}" if subject else info.name
        tracker = self._trackers.setdefault(key, Tracker())
        st = tracker.step(now, m.value, lv)
        crossed = {"ok": None, "warning": t.warning, "critical": t.critical}[st]
        return Verdict(
            check=info.name, area=info.area, subject=subject, state=st, value=m.value,
            unit=info.unit, threshold=crossed, warning=t.warning, critical=t.critical,
            since=now if tracker.since is None else tracker.since,
            reason=reason(info, m, st, t, own=tuple(x is not None for x in m.levels or (None, None))),
            top=top_processes(snap, m.top) if st != "ok" else [],
        )


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


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
