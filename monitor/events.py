"""Events: every time a check leaves "ok" and comes back, with its start, end, peak and the top
processes at the peak. Kept in an append-only JSON-lines file so they survive a restart.

Sample (``GET /api/events``, newest first):
    {"id": "1764150000.0-fs_percent:/var", "check": "fs_percent", "subject": "/var",
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

The file survives a crash or a full disk:
- each append is one ``os.write`` of complete lines on an ``O_APPEND`` descriptor; if it fails or
  is short, the file is cut back to where it was (or, if even that fails, repaired before the
  next append) and the unwritten events are written with the next append;
- a torn last line found at start (a crash mid-write) is completed if it is a whole event, else
  cut off, so later appends are not glued to it;
- a file that is not a regular file (a symlink to /dev/full, a FIFO) or is far over its size
  bound is refused with an error in the log (events then live in memory only) rather than read
  forever;
- NaN and Infinity are rejected when loading (the line is skipped) and never written.
"""
from __future__ import annotations

import json
import logging
import math
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .health import RANK, ProcessRef, Verdict
from .thresholds import CHECKS

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


LINE_BOUND = 4096  # bytes one event line may reasonably take (three top processes, many states)


class EventLog:
    def __init__(self, path: Path | None, keep: int = 500, max_bytes: int = 1 << 20) -> None:
        self.path = path
        self.keep = keep
        self.max_bytes = max_bytes
        # Compaction keeps the file under max_bytes (or ``keep`` lines when they are larger):
        # a file four times over that was not written by us and is not read.
        self.refuse_bytes = 4 * max(max_bytes, keep * LINE_BOUND)
        self._unwritten: dict[str, Event] = {}  # events whose last append failed: sent again
        self._needs_repair = False  # a failed append may have left a torn line at the end
        self._events: dict[str, Event] = {}  # id -> event, oldest first
        self._open: dict[str, str] = {}  # verdict key -> id of its open event
        self._last_seen: float | None = None
        if path is not None:
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

    # --- the file ------------------------------------------------------------------------
    def _append(self, ev: Event) -> None:
        if self.path is None:
            return
        self._unwritten[ev.id] = ev
        try:
            data = b"".join(_line(e) for e in self._unwritten.values())
        except ValueError as exc:  # a non-finite number slipped in: never write it
            log.error("event %s not written: %s", ev.id, exc)
            self._unwritten.pop(ev.id)
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._needs_repair:
                _repair(self.path)
                self._needs_repair = False
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise OSError(f"{self.path} is not a regular file")
                _write_whole(fd, data)
            finally:
                os.close(fd)
            self._unwritten.clear()
            if self.path.stat().st_size > self.max_bytes:
                self._compact()
        except OSError as exc:  # a full or read-only disk must not stop judgment
            log.warning("cannot write events to %s: %s (kept in memory, written with the next "
                        "event)", self.path, exc)
            if isinstance(exc, _TornWrite):
                self._needs_repair = True

    def _compact(self) -> None:
        assert self.path is not None
        self._evict()  # memory holds at most ``keep`` events plus the open ones; so does the file
        lines = []
        for ev in self._events.values():
            try:
                lines.append(_line(ev))
            except ValueError as exc:
                log.error("event %s dropped from the file: %s", ev.id, exc)
        data = b"".join(lines)
        fd, tmp = tempfile.mkstemp(prefix=".events-", dir=self.path.parent)
        try:
            try:
                _write_whole(fd, data)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _load(self) -> None:
        assert self.path is not None
        text = self._read()
        if text is None:
            return
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                ev = Event.model_validate_json(line)
            except ValidationError:  # a hand edit, an old torn line, NaN or Infinity
                log.warning("%s:%d: not an event, skipped", self.path, n)
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

    def _read(self) -> str | None:
        """The file's text after repairing a torn last line; None (and persistence off, with the
        reason in the log) for a file that must not be read or written."""
        assert self.path is not None
        try:
            st = os.stat(self.path)  # follows a symlink: what it points at is what we would read
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read events from %s: %s", self.path, exc)
            return None
        refusal = None
        if not stat.S_ISREG(st.st_mode):
            refusal = "is not a regular file"
        elif st.st_size > self.refuse_bytes:
            refusal = f"is {st.st_size} bytes, over its bound of {self.refuse_bytes}"
        if refusal:
            log.error("events file %s %s: not read, and no events will be written to it (they are "
                      "kept in memory until restart); move it away to keep events across restarts",
                      self.path, refusal)
            self.path = None
            return None
        try:
            _repair(self.path)
            return self.path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            log.warning("cannot read events from %s: %s", self.path, exc)
            return None


class _TornWrite(OSError):
    """A write that may have left part of a line at the end of the file."""


def _line(ev: Event) -> bytes:
    """One complete JSON line; ValueError for NaN or Infinity (JSON has no such numbers). A lone
    surrogate (an undecodable byte of a process name) becomes U+FFFD: valid UTF-8, readable back."""
    text = json.dumps(ev.model_dump(mode="json"), allow_nan=False, ensure_ascii=False,
                      separators=(",", ":")) + "\n"
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode()


def _write_whole(fd: int, data: bytes) -> None:
    """One write of complete lines. If it fails or is short, the file is cut back to its size
    before it; only if that fails too is the caller told to repair before the next append."""
    size = os.fstat(fd).st_size
    try:
        n = os.write(fd, data)
        if n == len(data):
            return
        err: OSError = OSError(f"short write: {n} of {len(data)} bytes (disk full?)")
    except OSError as exc:
        err = exc
    try:
        os.ftruncate(fd, size)
    except OSError:
        raise _TornWrite(str(err)) from err
    raise err


def _repair(path: Path) -> None:
    """A last line without its newline (a crash or a full disk mid-write) is completed when it is a
    whole event and cut off otherwise, so that the next append starts on a line of its own."""
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        start = size
        while start > 0:  # back to the previous newline, one block at a time
            block = max(0, start - 65536)
            f.seek(block)
            chunk = f.read(start - block)
            i = chunk.rfind(b"\n")
            if i >= 0:
                start = block + i + 1
                break
            start = block
        f.seek(start)
        tail = f.read(size - start)
        try:
            Event.model_validate_json(tail)
            f.seek(size)
            f.write(b"\n")
            log.warning("%s: the last line had no newline; completed", path)
        except ValidationError:
            f.truncate(start)
            log.warning("%s: a torn last line (%d bytes) was cut off", path, size - start)


def _beyond(v: Verdict, peak: float) -> bool:
    """Worse than the peak so far, on the check's bad side."""
    below = CHECKS[v.check][0].direction == "below"
    return v.value < peak if below else v.value > peak
