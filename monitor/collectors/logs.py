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
one that has not answered in ``JOURNAL_TIMEOUT`` s is killed and reported.

History series (``series()``): ``logs.errors_per_minute``.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from monitor.logs import journal
from monitor.logs.filters import LogFilter
from monitor.logs.cursor import FileCursor
from monitor.logs.lines import LEVELS, LogLine, decode, inert, parse_file_line
from monitor.logs.sources import LogSource, SourceStatus, configured, resolve, status

from .base import AreaModel

ERROR_LEVEL = 3  # syslog "err"; emerg (0), alert (1) and crit (2) count too
WINDOW = 60.0  # seconds of the sliding window
RECENT = 5  # error lines kept for the card
MESSAGE_LIMIT = 240  # characters of a message kept for the card and the API (hostile text)
READ_LIMIT = 1024 * 1024  # bytes read per file per tick
JOURNAL_INTERVAL = 5.0
JOURNAL_TIMEOUT = 10.0
JOURNAL_BATCH = 2000  # entries per journal poll; more are counted by the next polls
# Lines without one of these (lower-cased) substrings cannot guess to err or worse: skip them
# before decoding. A superset of lines.py's error words ("err" also matches "error", "stderr").
_ERROR_HINT = re.compile(rb"emerg|panic|crit|fatal|err|fail")
_CURSOR_RE = re.compile(r"^[a-z]=[0-9a-f]{1,64}(;[a-z]=[0-9a-f]{1,64}){0,15}$")  # s=…;i=…;b=…;m=…;t=…;x=…


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
    # False when a display credential is configured: the card also goes to wall screens (/wall,
    # /stream), which may not read logs (views/auth.py), so it shows no message text then.
    messages_on_card: bool = True


# --- shaping (pure) ------------------------------------------------------------------------------
def short(message: str, limit: int = MESSAGE_LIMIT) -> str:
    return message if len(message) <= limit else message[:limit - 1] + "…"


def error_lines(raw_lines: Iterable[bytes], source: str) -> list[LogLine]:
    """The lines of a file at err or worse, shaped (inert). Cheap for the lines that are not."""
    out = []
    for raw in raw_lines:
        if not _ERROR_HINT.search(raw[:2048].lower()):
            continue
        line = parse_file_line(decode(raw).rstrip("\r"), source)
        if line.level is not None and line.level <= ERROR_LEVEL:
            out.append(line)
    return out


def journal_errors(output: bytes, source: str) -> tuple[list[LogLine], str | None]:
    """``journalctl --output=json`` output -> (its err-or-worse entries, the last entry's cursor)."""
    out: list[LogLine] = []
    cursor = None
    for raw in output.splitlines():
        line = journal.parse_entry(raw, source)
        if line is not None and line.level is not None and line.level <= ERROR_LEVEL:
            out.append(line)
    for raw in reversed(output.splitlines()):
        try:
            c = json.loads(raw).get("__CURSOR")
        except (ValueError, AttributeError):
            continue
        if isinstance(c, str) and _CURSOR_RE.match(c):
            cursor = c
        break
    return out, cursor


@dataclass
class Window:
    """Error counts per source over the last ``seconds``: one (time, source, n) per non-empty read."""
    seconds: float = WINDOW
    events: deque = field(default_factory=deque)

    def add(self, now: float, source: str, n: int) -> None:
        if n:
            self.events.append((now, source, n))

    def counts(self, now: float) -> dict[str, int]:
        while self.events and self.events[0][0] <= now - self.seconds:
            self.events.popleft()
        out: dict[str, int] = {}
        for _, source, n in self.events:
            out[source] = out.get(source, 0) + n
        return out


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


# --- reading -------------------------------------------------------------------------------------
class FileErrors:
    """One file source: its cursor, started at the end of the file the first time it is readable."""

    def __init__(self, source: LogSource, read_limit: int = READ_LIMIT) -> None:
        self.source = source
        self.read_limit = read_limit
        self.cursor = FileCursor(lambda: resolve(source))

    def read(self) -> tuple[SourceStatus, list[LogLine]]:
        st = status(self.source)
        if not self.cursor.started:
            if st.available:
                self.cursor.start()  # at the end: what is already there is not "recent"
                return st, []
            if st.path is None or not os.path.exists(st.path):
                # Missing now: a file that appears later is new, and is read from its start.
                self.cursor.start()
            return st, []  # unreadable (permission): start at its end once it is readable
        return st, error_lines(self.cursor.read_new(self.read_limit), self.source.name)

    def close(self) -> None:
        self.cursor.close()


class JournalErrors:
    """The journal's err-or-worse entries since the last poll, asked without blocking the tick."""

    def __init__(self, source: LogSource, interval: float = JOURNAL_INTERVAL,
                 timeout: float = JOURNAL_TIMEOUT, since: float | None = None) -> None:
        self.source = source
        self.interval = interval
        self.timeout = timeout
        self.since = time.time() if since is None else since  # only entries after we started
        self.cursor: str | None = None
        self.proc: subprocess.Popen | None = None
        self.out = None
        self.started_at = 0.0
        self.next_due = 0.0  # monotonic
        self.error: str | None = None
        self.st: SourceStatus | None = None

    def args(self, exe: str) -> list[str]:
        filt = LogFilter(level=ERROR_LEVEL, since=None if self.cursor else self.since)
        args = journal.build_args(exe, self.source.path, filt, JOURNAL_BATCH)
        if self.cursor:  # a cursor journalctl gave us, checked against _CURSOR_RE
            args.append("--after-cursor=" + self.cursor)
        return args

    def read(self, now: float) -> tuple[SourceStatus, list[LogLine]]:
        lines: list[LogLine] = []
        if self.proc is not None:
            lines = self._collect(now)
        if self.proc is None and now >= self.next_due:
            self.next_due = now + self.interval
            self.st = status(self.source)  # which(journalctl), the directory: once per poll
            if self.st.available:
                self._start(now)
        st = self.st or status(self.source)
        if st.available and self.error:
            st = st.model_copy(update={"available": False, "reason": self.error})
        return st, lines

    def _start(self, now: float) -> None:
        try:
            self.out = tempfile.TemporaryFile()  # a file, not a pipe: nobody must drain it meanwhile
            self.proc = subprocess.Popen(self.args(journal.journalctl()), stdin=subprocess.DEVNULL,
                                         stdout=self.out, stderr=subprocess.STDOUT, env=journal.ENV)
            self.started_at = now
        except (OSError, journal.JournalError) as e:
            self.error = f"journalctl could not run: {getattr(e, 'strerror', None) or e}"
            self._close_out()

    def _collect(self, now: float) -> list[LogLine]:
        assert self.proc is not None and self.out is not None
        code = self.proc.poll()
        if code is None:
            if now - self.started_at > self.timeout:
                self.proc.kill()
                self.proc.wait(1)
                self.proc = None
                self._close_out()
                self.error = f"journalctl did not answer within {self.timeout:g} s"
            return []
        self.proc = None
        self.out.seek(0)
        data = self.out.read(64 * 1024 * 1024)
        self._close_out()
        if code != 0:
            last = decode(data).strip().splitlines()
            self.error = "journalctl failed: " + inert(last[-1][:200] if last else f"exit status {code}")
            return []
        self.error = None
        lines, cursor = journal_errors(data, self.source.name)
        if cursor:
            self.cursor = cursor
            if len(data.splitlines()) >= JOURNAL_BATCH:
                self.next_due = now  # more are waiting: ask again on the next tick
        return lines

    def _close_out(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(1)
        self.proc = None
        self._close_out()


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
        self.window = Window()
        self.totals: dict[str, int] = {}
        self.recent: deque[LogLine] = deque(maxlen=RECENT)

    @classmethod
    def from_settings(cls, settings=None) -> LogsCollector:
        """Built with ``log_sources`` (empty: the host's defaults), as /logs reads them; no
        message text on the card when a display credential (wall screens) is configured."""
        if settings is None:
            from monitor.settings import get_settings
            settings = get_settings()
        display = bool(settings.display_token or settings.display_token_file)
        return cls(configured(settings.log_sources).values(), messages_on_card=not display)

    def collect(self, now: float) -> Logs:
        statuses = []
        for r in self.readers:
            st, lines = r.read(now) if isinstance(r, JournalErrors) else r.read()
            statuses.append(st)
            if lines:
                name = r.source.name
                self.window.add(now, name, len(lines))
                self.totals[name] = self.totals.get(name, 0) + len(lines)
                self.recent.extend(lines[-RECENT:])
        return shape(statuses, self.window.counts(now), self.totals, self.recent, time.time(),
                     messages_on_card=self.messages_on_card)

    def close(self) -> None:
        for r in self.readers:
            r.close()

    def series(self, data: Logs) -> dict[str, float]:
        v = data.errors_per_minute
        return {} if v is None else {"logs.errors_per_minute": v}
