"""Events: every time a check leaves "ok" and comes back, with its start, end, peak and the top
processes at the peak. Kept in an append-only JSON-lines file so they survive a restart.

Sample (``GET /api/events``, newest first):
    {"id": "1764150000.0-disks_percent:/var", "check": "disks_percent", "subject": "/var",
     "area": "disks", "state": "critical", "start": 1764150000.0, "end": 1764150420.0,
     "peak": 96.2, "peak_at": 1764150300.0, "unit": "%",
     "states": [[1764150000.0, "warning"], [1764150120.0, "critical"], [1764150420.0, "ok"]],
     "reason": "/var is 96 % full (critical at 95 %)", "top": [], "interrupted": false}

One event covers one episode ok -> warning (-> critical -> warning ...) -> ok; ``state`` is the
worst it reached and ``states`` every change. A line is appended when an event opens, changes
state and ends (not on every new peak, so the file grows with changes, not with ticks). Reading
the file back, the last line of each id wins. When the file outgrows ``max_bytes`` it is rewritten
with every open event and the newest closed ones, ``keep`` in all (write to a temporary file, then
rename: never half a file).
An event still open when the console stopped is decided by the first tick that judges its check
again (monitor/events_restart.py): still not ok, the same episode goes on with the gap noted; ok
(or its subject gone), it is closed at its last known time, ``interrupted``. The peak covers the
values seen during the hold time before the state rose. A boot time other than the one recorded
at the last start is a "host rebooted at ..." event (monitor/reboot.py).

A verdict that is ``unknown`` (the check could not be judged this tick) changes no event: an open
episode stays open through it and none starts. A tick whose judgment failed as a whole never
reaches ``update`` at all (monitor/sampler.py), so no episode is closed by one bad tick.

The file survives a crash or a full disk (monitor/events_file.py): one ``O_APPEND`` write of whole
lines, cut back on a failure; a torn last line repaired at start; a file that is not a regular
file or is far over its bound refused (events then live in memory only); NaN and Infinity
rejected when loading (the line is skipped) and never written.
"""
from __future__ import annotations

import functools
import logging
import math
import threading
from collections.abc import Iterable
from pathlib import Path

from . import events_restart as restart
from .event_model import Audit, Event
from .events_file import EventsFile
from .health import Verdict
from .reboot import changed_boot
from .thresholds import CHECKS
from .trackers import RANK

log = logging.getLogger("server_monitor.events")
__all__ = ["Audit", "Event", "EventLog"]  # the models live in monitor/event_model.py

LINE_BOUND = 4096  # bytes one event line may reasonably take (three top processes, many states)


def _locked(method):
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return locked


class EventLog:
    def __init__(self, path: Path | None, keep: int = 500, max_bytes: int = 1 << 20,
                 boot_time: float | None = None) -> None:
        self.keep = keep
        # The judge's thread updates the events while request threads record audits and read
        # them: every public method holds this lock (_locked), so none sees a dict mid-change.
        self._lock = threading.RLock()
        self.max_bytes = max_bytes
        # Compaction keeps the file under max_bytes (or ``keep`` lines when they are larger):
        # a file four times over that was not written by us and is not read.
        self.refuse_bytes = 4 * max(max_bytes, keep * LINE_BOUND)
        self._events: dict[str, Event] = {}  # id -> event, oldest first
        self._open: dict[str, str] = {}  # verdict key -> id of its open event
        self._last_seen: float | None = None
        self._resume: dict[str, str] = {}  # verdict key -> id of an event open at the last shutdown
        self._resume_first: dict[str, float] = {}  # verdict key -> first tick it was seen pending
        self._hold: dict[str, list[tuple[float, float]]] = {}  # key -> values beyond warning while ok
        self.file = None if path is None else EventsFile(path, max_bytes, self.refuse_bytes, restart.is_event)
        if self.file is not None:
            self._load()
        if path is not None:
            self._check_boot(path.parent / "boot_time", boot_time)

    # --- reading -------------------------------------------------------------------------
    @_locked
    def recent(self, limit: int = 50) -> list[Event]:
        """Newest first."""
        return list(reversed(self._events.values()))[:limit]

    @_locked
    def open_events(self) -> list[Event]:
        return [self._events[i] for i in self._open.values()]

    # --- one tick ------------------------------------------------------------------------
    @_locked
    def update(self, now: float, verdicts: Iterable[Verdict], present_areas: set[str]) -> None:
        self._last_seen = now
        seen = set()
        for v in verdicts:
            seen.add(v.key)
            if v.state == "unknown" or v.value is None or not math.isfinite(v.value):
                continue  # cannot be judged this tick: an open episode stays as it is
            if v.key in self._resume:
                if v.state == "ok" and v.pending:
                    # past a level inside the restarted Judge's hold: not over, decide after it
                    self._resume_first.setdefault(v.key, now)
                    continue
                self._resumed(now, v)
            ev_id = self._open.get(v.key)
            if ev_id is None:
                if v.state != "ok":
                    self._start(now, v)
                else:
                    self._holding(now, v)
                continue
            ev = self._events[ev_id]
            last_state = ev.states[-1][1] if ev.states else ev.state
            changed = v.state != last_state
            if _beyond(v, ev.peak):
                ev = ev.model_copy(update={"peak": v.value, "peak_at": now, "reason": v.reason,
                                           "top": v.top or ev.top})
            if changed:
                ev = ev.model_copy(update={
                    "states": [*ev.states, (now, v.state)],
                    "state": max(ev.state, v.state, key=RANK.__getitem__),
                    **({"end": now} if v.state == "ok" else {}),
                })
            self._events[ev_id] = ev
            if v.state == "ok":
                del self._open[v.key]
            if changed:
                self._append(ev)
        # An episode open at shutdown whose subject is gone now: it ended while we were stopped.
        for key in [k for k in self._resume if k not in seen]:
            ev = self._events.get(self._resume[key])
            if ev is None or ev.area in present_areas:
                del self._resume[key]
                self._resume_first.pop(key, None)
                if ev is not None:
                    self._end_stopped(ev)
        # A subject that vanished while its area is present (unmounted): its event ends now.
        for key in [k for k in self._open if k not in seen]:
            ev = self._events[self._open[key]]
            if ev.area in present_areas:
                ev = ev.model_copy(update={"end": now, "states": [*ev.states, (now, "gone")]})
                self._events[ev.id] = ev
                del self._open[key]
                self._append(ev)

    def _holding(self, now: float, v: Verdict) -> None:
        """An ok verdict beyond its warning level is a state waiting out its hold time: its values
        count for the peak of the episode it may become."""
        level = v.warning
        if level is None or not _beyond(v, level) and v.value != level:
            self._hold.pop(v.key, None)
            return
        self._hold.setdefault(v.key, []).append((now, v.value))

    def _start(self, now: float, v: Verdict) -> None:
        peak, peak_at = v.value, now
        for t, value in self._hold.pop(v.key, []):  # the hold before the state rose
            if t >= v.since - 1e-6 and _beyond(v, peak, value):
                peak, peak_at = value, t
        reason = v.reason if peak_at == now else f"{v.reason}; peak {peak:g}{v.unit} during the hold"
        ev = Event(id=f"{now:.3f}-{v.key}", check=v.check, subject=v.subject, area=v.area,
                   state=v.state, start=v.since, peak=peak, peak_at=peak_at, unit=v.unit,
                   states=[(v.since, v.state)], reason=reason, top=v.top)
        self._events[ev.id] = ev
        self._open[v.key] = ev.id
        self._evict()
        self._append(ev)

    def _evict(self) -> None:
        """Drop the oldest *closed* events beyond ``keep``: an episode still open is never lost,
        and one long-open episode does not stop the limit for the others."""
        excess = len(self._events) - self.keep
        if excess <= 0:
            return
        closed = [i for i, ev in self._events.items() if ev.end is not None]
        for ev_id in closed[:excess]:
            del self._events[ev_id]

    # --- across restarts ------------------------------------------------------------------
    def _resumed(self, now: float, v: Verdict) -> None:
        """The first judged tick after a restart for an episode open at shutdown: still not ok, the
        same episode goes on (the gap noted); ok, it ended while the console was stopped."""
        ev = self._events.get(self._resume.pop(v.key))
        first = self._resume_first.pop(v.key, now)  # the first tick seen after the restart
        if ev is None:  # evicted meanwhile
            return
        if v.state == "ok":
            self._end_stopped(ev)
            return
        ev = restart.resumed(ev, first, v.state)
        self._events[ev.id] = ev
        self._open[v.key] = ev.id
        self._append(ev)

    def _end_stopped(self, ev: Event) -> None:
        ev = restart.ended_stopped(ev)
        self._events[ev.id] = ev
        self._append(ev)

    def _check_boot(self, state: Path, boot_time: float | None) -> None:
        """A boot time other than the one recorded at the last start (monitor/reboot.py)."""
        booted = changed_boot(state, boot_time)
        if booted is None:
            return
        ev = restart.reboot(booted)
        self._events.pop(ev.id, None)
        self._events[ev.id] = ev
        self._events = dict(sorted(self._events.items(), key=lambda kv: kv[1].start))
        self._evict()
        self._append(ev)

    # --- audit records (actions) -------------------------------------------------------------
    @_locked
    def audit(self, record: Audit, reason: str, now: float) -> Event:
        """Record one action attempt as an event that starts and ends at once (never an episode:
        no verdict key, so no tick opens, changes or closes it). Kept and evicted like a closed
        event; ``state`` is ok when the action was carried out, warning when it was not."""
        done = record.result in ("gone", "running", "stopped", "done")
        subject = record.unit or (f"pid {record.pid}" if record.pid is not None else "")
        check = "action_" + record.action.partition(" ")[0]
        return self._point(check, "actions", subject, "ok" if done else "warning", reason, now, record)

    @_locked
    def note(self, check: str, area: str, subject: str, state: str, reason: str, now: float) -> Event:
        """Something the console did or could not do, as a point event (like ``audit``): e.g. a
        notification channel that gave up on a message, and its first delivery after that."""
        return self._point(check, area, subject, state, reason, now)

    def _point(self, check: str, area: str, subject: str, state: str, reason: str, now: float,
               audit: Audit | None = None) -> Event:
        ev_id = f"{now:.6f}-{check}:{subject}"
        while ev_id in self._events:
            now += 1e-6  # two records in one microsecond: the later one a microsecond on
            ev_id = f"{now:.6f}-{check}:{subject}"
        ev = Event(id=ev_id, check=check, subject=subject, area=area, state=state, start=now,
                   end=now, peak=0.0, peak_at=now, states=[(now, state)], reason=reason,
                   audit=audit)
        self._events[ev.id] = ev
        self._evict()
        self._append(ev)
        return ev

    @_locked
    def close(self) -> None:
        """At shutdown: write each open event as it stands, with the last moment it was seen
        open (on load it ends then, ``interrupted``, not at its peak or last change)."""
        for ev_id in self._open.values():
            ev = self._events[ev_id]
            if self._last_seen is not None:
                ev = self._events[ev_id] = ev.model_copy(update={"last_seen": self._last_seen})
            self._append(ev)

    # --- the file (monitor/events_file.py) -----------------------------------------------
    def _append(self, ev: Event) -> None:
        if self.file is not None:
            self.file.append(ev, self._kept)

    def _kept(self) -> Iterable[Event]:
        """What a compacted file holds: at most ``keep`` events plus the open ones, as memory."""
        self._evict()
        return list(self._events.values())

    def _load(self) -> None:
        assert self.file is not None
        path, text = self.file.path, self.file.read()
        if self.file.refused:
            self.file = None
        if text is None:
            return
        self._events = restart.load(text, path)
        self._evict()  # before the open ones are closed (monitor/events_restart.py), so they are kept
        self._resume = restart.open_at_stop(self._events)


def _beyond(v: Verdict, peak: float, value: float | None = None) -> bool:
    """Worse than the peak so far (``value``, default the verdict's), on the check's bad side."""
    value = v.value if value is None else value
    info = CHECKS.get(v.check)
    below = info is not None and info[0].direction == "below"
    return value < peak if below else value > peak
