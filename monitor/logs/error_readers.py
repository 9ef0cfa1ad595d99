"""The logs area's reading side: per source, the error lines that arrived since the last tick.

``FileErrors`` keeps one ``FileCursor`` (cursor.py) per file source, started at the *end* of the
file the first time it is readable, so old lines never count and a big file is never read; each
read takes at most ``read_limit`` bytes (a burst is counted over the next ticks).
``JournalErrors`` asks ``journalctl --output=json --priority=err --after-cursor=...`` every
``interval`` s (argv list, no shell), started with ``Popen`` into a temporary file and collected on
a later tick, so a slow journal never holds the tick; one that has not answered in ``timeout`` s
is killed and reported. Both have ``close()``: the open files, a running journalctl.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time

from . import journal
from .cursor import FileCursor
from .errors import ERROR_LEVEL, error_lines, journal_errors
from .filters import LogFilter
from .lines import LogLine, decode, inert
from .sources import LogSource, SourceStatus, resolve, status

READ_LIMIT = 1024 * 1024  # bytes read per file per tick
JOURNAL_INTERVAL = 5.0
JOURNAL_TIMEOUT = 10.0
JOURNAL_BATCH = 2000  # entries per journal poll; more are counted by the next polls


class FileErrors:
    """One file source: its cursor, started at the end of the file the first time it is readable."""

    def __init__(self, source: LogSource, read_limit: int = READ_LIMIT) -> None:
        self.source = source
        self.read_limit = read_limit
        self.cursor = FileCursor(lambda: resolve(source))

    def read(self, now: float | None = None) -> tuple[SourceStatus, list[LogLine]]:
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
        if self.cursor:  # a cursor journalctl gave us, checked against errors.CURSOR_RE
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
        """Kill a journalctl still running (and reap it), close its output file."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(1)
        self._close_out()
