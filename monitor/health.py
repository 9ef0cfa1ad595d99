"""Judgment: thresholds -> verdicts with reasons, once per tick, in this one module.

The Sampler calls ``Judge(snapshot, history)`` after each collection; the verdicts it returns are
stored in ``snapshot.verdicts`` and are what the cards colour, /api/health answers and /metrics
exports. Sample verdicts (the non-ok ones, as ``GET /api/health?format=text`` prints them):

    CRITICAL disks_percent /var: /var is 96 % full (critical at 95 %), full in about 2 h
    WARNING  cpu_percent: CPU is 93 % busy (warning at 90 %) [top: python3 (pid 4121) 88 %, ...]

Each check measures one number per subject (a mount point, an interface, a sensor) from an area
of the snapshot (monitor/measures.py). A ``Tracker`` per (check, subject) keeps what needs more
than one tick: the hold time (``for``) before a state rises and the hysteresis (``clear``) before
it lowers (monitor/trackers.py).

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
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .measures import MEASURES, Measure, Measurement, reason
from .thresholds import CHECKS, CheckInfo, Thresholds
from .trackers import Levels, State, Tracker, sensor_threshold

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
    started: float | None = None  # create_time: with pid, the process's identity (PIDs are reused)
    command: str | None = None  # the masked, shortened command line (none for the display scope)
    unit: str | None = None  # the systemd unit (service or scope) where known


class Verdict(BaseModel):
    """The judgment of one check on one subject in one snapshot."""
    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    check: str = Field(description="threshold name, e.g. disks_percent (see README, Thresholds)")
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
    pending: str | None = Field(None, description="the level this value is past but still inside its "
                                "hold for (warning or critical); null when nothing is coming")
    pending_in: float | None = Field(None, description="seconds until ``pending`` is reached if "
                                     "the value stays")

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
    return [ProcessRef(pid=r.pid, name=r.name, cpu_percent=r.cpu_percent, rss=r.rss, ppid=r.ppid,
                       started=getattr(r, "create_time", None),
                       command=_short(getattr(r, "command", None)), unit=unit_of_pid(r.pid))
            for r in rows[:n]]


TOP_COMMAND_LIMIT = 120  # characters of a culprit's (already masked) command line


def _short(command: str | None) -> str | None:
    if not command:
        return None
    return command if len(command) <= TOP_COMMAND_LIMIT else command[:TOP_COMMAND_LIMIT - 1] + "…"


def unit_of_pid(pid: int, proc: str = "/proc") -> str | None:
    """The systemd unit of a process from /proc/PID/cgroup; None where unknown (gone, no systemd)."""
    from .process_shape import parse_cgroup, systemd_path, unit_of
    from .text import clean
    try:
        with open(f"{proc}/{int(pid)}/cgroup", "rb") as f:
            raw = f.read(65536)
    except OSError:
        return None
    cgroups = parse_cgroup("\n".join(clean(line, 4096) for line in raw.splitlines()))
    return unit_of(systemd_path(cgroups))[0]


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
        coming = tracker.pending(now, lv)
        return Verdict(
            check=info.name, area=info.area, subject=subject, state=st, value=m.value,
            unit=info.unit, threshold=crossed, warning=t.warning, critical=t.critical,
            since=now if tracker.since is None else tracker.since,
            reason=reason(info, m, st, t, own=tuple(x is not None for x in m.levels or (None, None))),
            top=top_processes(snap, m.top) if st != "ok" or coming else [],
            pending=coming[0] if coming else None,
            pending_in=round(coming[1], 1) if coming else None,
        )


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"

