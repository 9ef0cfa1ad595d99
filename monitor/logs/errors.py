"""Error lines and their count over a sliding window: the logs area's pure part (no I/O).

    >>> [l.level_name for l in error_lines([b"app: error: disk full", b"app: served /"], "app")]
    ['err']
    >>> t = Tally(seconds=60.0)
    >>> t.add(100.0, "app", error_lines([b"app: error: disk full"] * 3, "app"))
    >>> t.add(130.0, "db", error_lines([b"db: fatal: no space"], "db"))
    >>> t.counts(159.9), t.counts(160.0), t.totals
    ({'app': 3, 'db': 1}, {'db': 1}, {'app': 3, 'db': 1})

"Error-level" is syslog's err or worse (emerg, alert, crit, err): the journal's PRIORITY, or for
file lines the best-effort level word guess of lines.py. The window counts what was *read* in the
last ``seconds`` (a read at exactly ``now - seconds`` is out), not the lines' own timestamps.
"""
from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import journal
from .lines import LogLine, decode, parse_file_line

ERROR_LEVEL = 3  # syslog "err"; emerg (0), alert (1) and crit (2) count too
WINDOW = 60.0  # seconds of the sliding window
RECENT = 5  # error lines kept for the card
# Lines without one of these (lower-cased) substrings cannot guess to err or worse: skip them
# before decoding. A superset of lines.py's error words ("err" also matches "error", "stderr").
_ERROR_HINT = re.compile(rb"emerg|panic|crit|fatal|err|fail")
CURSOR_RE = re.compile(r"^[a-z]=[0-9a-f]{1,64}(;[a-z]=[0-9a-f]{1,64}){0,15}$")  # s=…;i=…;b=…;m=…;t=…;x=…


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
        if isinstance(c, str) and CURSOR_RE.match(c):
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


class Tally:
    """Everything the area counts: the window, totals since start, the last ``recent`` lines."""

    def __init__(self, seconds: float = WINDOW, recent: int = RECENT) -> None:
        self.window = Window(seconds)
        self.totals: dict[str, int] = {}
        self.recent: deque[LogLine] = deque(maxlen=recent)

    def add(self, now: float, source: str, lines: Sequence[LogLine]) -> None:
        """The error lines one read of ``source`` returned at ``now`` (oldest first)."""
        if not lines:
            return
        self.window.add(now, source, len(lines))
        self.totals[source] = self.totals.get(source, 0) + len(lines)
        self.recent.extend(lines[-(self.recent.maxlen or 0):])

    def counts(self, now: float) -> dict[str, int]:
        return self.window.counts(now)
