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
Events still open when the console stopped are closed at their last known time, ``interrupted``.

A verdict that is ``unknown`` (the check could not be judged this tick) changes no event: an open
episode stays open through it and none starts. A tick whose judgment failed as a whole never
reaches ``update`` at all (monitor/sampler.py), so no episode is closed by one bad tick.

The file survives a crash or a full disk (monitor/events_file.py): one ``O_APPEND`` write of whole
lines, cut back on a failure; a torn last line repaired at start; a file that is not a regular
file or is far over its bound refused (events then live in memory only); NaN and Infinity
rejected when loading (the line is skipped) and never written.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .events_file import EventsFile
from .health import ProcessRef, Verdict
from .thresholds import CHECKS, RENAMED
from .trackers import RANK

log = logging.getLogger("server_monitor.events")



class Event(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)  # a NaN peak would break every page showing it

    id: str
    check: str
    subject: str = ""
    area: str
    state: str = Field(description="the worst state of the episode")
    start: float
    end: float | None = Field(None, description="None while the event is still open")
    peak: float
    peak_at: float
    unit: str = ""
    states: list[tuple[float, str]] = Field(default_factory=list, description="(when, new state)")
    reason: str = Field(description="the reason at the peak")
    top: list[ProcessRef] = Field(default_factory=list, description="top processes at the peak")
    interrupted: bool = Field(False, description="the console stopped while the event was open")
    last_seen: float | None = Field(None, description="for an event open at shutdown: the last "
                                                      "moment the console saw it still open")

    @field_validator("check")
    @classmethod
    def _current_name(cls, check: str) -> str:
        """A file written before the checks were renamed (issue 11) reads with the new names."""
        return RENAMED.get(check, check)


LINE_BOUND = 4096  # bytes one event line may reasonably take (three top processes, many states)


class EventLog:
    def __init__(self, path: Path | None, keep: int = 500, max_bytes: int = 1 << 20) -> None:
        self.keep = keep
        self.max_bytes = max_bytes
        # Compaction keeps the file under max_bytes (or ``keep`` lines when they are larger):
        # a file four times over that was not written by us and is not read.
        self.refuse_bytes = 4 * max(max_bytes, keep * LINE_BOUND)
        self._events: dict[str, Event] = {}  # id -> event, oldest first
        self._open: dict[str, str] = {}  # verdict key -> id of its open event
        self._last_seen: float | None = None
        self.file = None if path is None else EventsFile(path, max_bytes, self.refuse_bytes, _is_event)
        if self.file is not None:
            self._load()

    # --- reading -------------------------------------------------------------------------
    def recent(self, limit: int = 50) -> list[Event]:
        """Newest first."""
        return list(reversed(self._events.values()))[:limit]

    def open_events(self) -> list[Event]:
        return [self._events[i] for i in self._open.values()]

    # --- one tick ------------------------------------------------------------------------
    def update(self, now: float, verdicts: Iterable[Verdict], present_areas: set[str]) -> None:
        self._last_seen = now
        seen = set()
        for v in verdicts:
            seen.add(v.key)
            if v.state == "unknown" or v.value is None or not math.isfinite(v.value):
                continue  # cannot be judged this tick: an open episode stays as it is
            ev_id = self._open.get(v.key)
            if ev_id is None:
                if v.state != "ok":
                    self._start(now, v)
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
        # A subject that vanished while its area is present (unmounted): its event ends now.
        for key in [k for k in self._open if k not in seen]:
            ev = self._events[self._open[key]]
            if ev.area in present_areas:
                ev = ev.model_copy(update={"end": now, "states": [*ev.states, (now, "gone")]})
                self._events[ev.id] = ev
                del self._open[key]
                self._append(ev)

    def _start(self, now: float, v: Verdict) -> None:
        ev = Event(id=f"{now:.3f}-{v.key}", check=v.check, subject=v.subject, area=v.area,
                   state=v.state, start=v.since, peak=v.value, peak_at=now, unit=v.unit,
                   states=[(v.since, v.state)], reason=v.reason, top=v.top)
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
        text = self.file.read()
        if self.file.refused:
            self.file = None
        if text is None:
            return
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                ev = Event.model_validate_json(line)
            except ValidationError:  # a hand edit, an old torn line, NaN or Infinity
                log.warning("%s:%d: not an event, skipped", self.file.path, n)
                continue
            self._events.pop(ev.id, None)  # the last line of an id wins, in its new place
            self._events[ev.id] = ev
        # The file is in write order (an event's last line moves it to the end); we keep start order.
        self._events = dict(sorted(self._events.items(), key=lambda kv: kv[1].start))
        self._evict()  # before the open ones are closed below, so they are kept
        for ev_id, ev in list(self._events.items()):
            if ev.end is None:  # open when the console stopped: it ended unobserved
                last = max([ev.peak_at, *(t for t, _ in ev.states), ev.last_seen or ev.start])
                self._events[ev_id] = ev.model_copy(update={"end": last, "interrupted": True})


def _is_event(line: bytes) -> bool:
    """A whole event (a torn last line is not one: monitor/events_file.py cuts it off)."""
    try:
        Event.model_validate_json(line)
        return True
    except ValidationError:
        return False


def _beyond(v: Verdict, peak: float) -> bool:
    """Worse than the peak so far, on the check's bad side."""
    below = CHECKS[v.check][0].direction == "below"
    return v.value < peak if below else v.value > peak
