"""Logs: how many error-level lines the configured log sources received in the last minute.

Sample (a Debian host, 30 "error" lines appended to /var/log/syslog in the last minute):
    errors_per_minute=30.0 window=60.0
    sources:
      syslog  file     /var/log/syslog   available  errors=30 total=212
      auth    file     /var/log/auth.log unavailable "permission denied: run as root or grant read access"
      journal journal  -                 available  errors=0 total=3
    recent:   (the last 5, oldest first)
      1764156721.0 syslog err "Nov 26 11:32:01 web1 app[812]: error: connection refused"

"Error-level" is syslog's err or worse (emerg, alert, crit, err): the journal's PRIORITY, or for
file lines the best-effort level word guess of monitor/logs/lines.py ("error", "failed", "crit",
"fatal", ...). The count is over a sliding 60 s window of what was *read*, not the lines' own
timestamps (file timestamps may lack a year or lie), so ``errors_per_minute`` is simply the error
lines read in the last 60 s; it is None when no source is readable (unknown, not a fake 0).

Cheap per tick by design: each file source keeps one open file and an offset (the live tail's
``FileCursor``), opened at the *end* on the first tick, so old lines are never counted and a 1 GB
file is never read; each tick reads only what was appended (at most ``read_limit`` bytes; a burst is
counted over the next ticks). It follows rotation: rename + create and copytruncate (a file that
shrank or whose inode changed is read from the start of the new file). Only lines with an error
word are decoded and shaped. The journal is asked every ``journal_interval`` s (default 5) with
``journalctl --output=json --priority=err --after-cursor=...`` (argv list, no shell), started
without waiting for it: a later tick collects its output, so a slow journal never holds the tick;
one that has not answered in ``JOURNAL_TIMEOUT`` s (error_readers.py) is killed and reported.

Where it lives: ``read()`` here asks each source's reader (monitor/logs/error_readers.py: files
and the journal, the only I/O); which lines are errors and the sliding count are pure
(monitor/logs/errors.py: ``error_lines``, ``journal_errors``, ``Window``, ``Tally``); ``shape()``
here turns statuses and counts into the model. ``close()`` closes the files and kills a
journalctl still running; ``Sampler.close()`` calls it at shutdown.

History series (``series()``): ``logs.errors_per_minute``.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import Field

from monitor.logs.error_readers import JOURNAL_INTERVAL, READ_LIMIT, FileErrors, JournalErrors
from monitor.logs.errors import WINDOW, Tally
from monitor.logs.lines import LEVELS, LogLine
from monitor.logs.sources import LogSource, SourceStatus, configured

from .base import AreaModel

MESSAGE_LIMIT = 240  # characters of a message kept for the card and the API (hostile text)


class ErrorLine(AreaModel):
    time: float | None  # the line's own time when it has one, else when it was read (epoch s)
    source: str
    level: int  # syslog priority, 0 (emerg) .. 3 (err)
    level_name: str
    message: str  # inert (no ANSI, control characters made visible), at most MESSAGE_LIMIT chars


class SourceErrors(AreaModel):
    name: str
    kind: Literal["file", "journal"]
    path: str | None  # the file read now (a glob's newest match); the journal directory if any
    available: bool
    reason: str | None  # why it cannot be read, in words an operator can act on
    errors: int  # error lines read in the last WINDOW seconds
    total: int  # error lines read since the console started


class Logs(AreaModel):
    errors_per_minute: float | None  # error lines in the last 60 s; None: no source readable
    window: float  # seconds the count covers
    sources: list[SourceErrors]
    recent: list[ErrorLine]  # the last RECENT error lines, oldest first
    # Kept for /api/snapshot readers (it is in the published schema); nothing in the console reads
    # it any more: the card shows message text per viewer's scope (`full`, views/cards.py).
    messages_on_card: bool = Field(True, deprecated=True, description=(
        "Deprecated: the dashboard card no longer uses it. False when a display credential is "
        "configured; the card now shows message text to the full scope and hides it from the "
        "display scope (wall screens, anonymous loopback) whatever this says."))


# --- shaping (pure) ------------------------------------------------------------------------------
def short(message: str, limit: int = MESSAGE_LIMIT) -> str:
    return message if len(message) <= limit else message[:limit - 1] + "…"


def shape(statuses: Sequence[SourceStatus], counts: dict[str, int], totals: dict[str, int],
          recent: Iterable[LogLine], now_wall: float, window: float = WINDOW,
          messages_on_card: bool = True) -> Logs:
    """Source statuses, window counts and the recent error lines -> the model."""
    sources = [SourceErrors(name=s.name, kind=s.kind, path=s.path, available=s.available,
                            reason=s.reason, errors=counts.get(s.name, 0), total=totals.get(s.name, 0))
               for s in statuses]
    readable = any(s.available for s in statuses)
    return Logs(
        errors_per_minute=float(sum(counts.values())) if readable else None,
        window=window,
        sources=sources,
        recent=[ErrorLine(time=l.time if l.time is not None else now_wall, source=l.source,
                          level=l.level, level_name=LEVELS[l.level], message=short(l.message))
                for l in recent if l.level is not None],
        messages_on_card=messages_on_card,
    )


# --- the collector -------------------------------------------------------------------------------
class LogsCollector:
    name = "logs"
    model = Logs
    interval = 0.0  # every tick: a tick costs a stat and a short read per file
    custom_api = True  # views/logs.py serves GET /api/logs (a query); the area is in /api/snapshot

    def __init__(self, sources: Iterable[LogSource], journal_interval: float = JOURNAL_INTERVAL,
                 read_limit: int = READ_LIMIT, messages_on_card: bool = True) -> None:
        self.messages_on_card = messages_on_card
        self.readers: list[FileErrors | JournalErrors] = [
            JournalErrors(s, journal_interval) if s.kind == "journal" else FileErrors(s, read_limit)
            for s in sources]
        self.tally = Tally()
        # collect() runs in a sampler worker thread; close() may come while one is running: it
        # waits for it, and no read starts (no file opened, no journalctl started) afterwards.
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_settings(cls, settings=None) -> LogsCollector:
        """Built with ``log_sources`` (empty: the host's defaults), as /logs reads them; no
        message text on the card when a display credential (wall screens) is configured."""
        if settings is None:
            from monitor.settings import get_settings
            settings = get_settings()
        display = bool(settings.display_token or settings.display_token_file)
        return cls(configured(settings.log_sources).values(), messages_on_card=not display)

    def read(self, now: float) -> list[tuple[SourceStatus, list[LogLine]]]:
        """Each source's status and the error lines it received since the last read."""
        return [r.read(now) for r in self.readers]

    def collect(self, now: float) -> Logs:
        with self._lock:
            if self._closed:
                raise RuntimeError("the logs collector is closed (the console is stopping)")
            got = self.read(now)
        for r, (_, lines) in zip(self.readers, got, strict=True):
            self.tally.add(now, r.source.name, lines)
        return shape([st for st, _ in got], self.tally.counts(now), self.tally.totals,
                     self.tally.recent, time.time(), messages_on_card=self.messages_on_card)

    def open(self) -> None:
        """Collect again after close() (a new Sampler over the same collectors, i.e. a second
        lifespan of the same app): each file is opened again at its end on the next read."""
        with self._lock:
            self._closed = False

    def close(self) -> None:
        """Close every file cursor and kill a journalctl still running (after a collect in
        progress has finished); safe to call twice."""
        with self._lock:
            self._closed = True
            for r in self.readers:
                r.close()

    def series(self, data: Logs) -> dict[str, float]:
        v = data.errors_per_minute
        return {} if v is None else {"logs.errors_per_minute": v}
