"""Filters a request may apply to a source's lines, each validated before anything is read.

    >>> f = LogFilter.parse(q="ssh", regex=r"from \\d+\\.\\d+", level="err", since="15m")
    >>> f.level, round(time.time() - f.since)
    (3, 900)
    >>> f.matches(LogLine(source="auth", level=3, time=time.time(), message="sshd: error from 10.0.0.1"))
    True

A regular expression is bounded in length (MAX_REGEX), in what compiling it may cost (it is
compiled by a memory-capped helper process first, see regex_guard.py) and in matching time: the
``regex`` package's timeout, with one deadline shared by all lines of a request, so a pattern like
``(a|aa)+$`` against a long line answers "took too long" instead of holding a worker. Matching
releases the GIL, said explicitly (``concurrent=True``): a search that kept it (concurrent=False)
held the event loop for its whole budget, 0.8-0.9 s measured, while running in a worker thread.

A time (since/until) must fall between 1970 and a year from now: journalctl refuses a negative
epoch (``999999w`` ago) with its own error, which must be a 422 here, not an unavailable source.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from . import regex_guard
from .lines import LEVEL_ALIASES, LEVELS, LogLine

if TYPE_CHECKING:  # imported by the first pattern compiled (_compile): RSS only once one is asked
    import regex

MAX_REGEX = 200
MAX_TEXT = 200
REGEX_BUDGET = 0.5  # seconds of matching per request (or per live batch)

# A systemd unit name (systemd.unit(5)): letters, digits, ":-_.\" and "@" for templates, plus a
# suffix or none (journalctl adds ".service"). Never starts with "-", so it cannot be an option;
# no glob characters, so journalctl reads it as one literal unit.
UNIT_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9:_.@\\-]{0,254}$")

_RELATIVE = re.compile(r"^(\d{1,6})\s*(s|sec|m|min|h|d|w)$")
_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_AHEAD = 366 * 86400  # seconds past now a time may be (a clock a little ahead; not year 5000)


class FilterError(ValueError):
    """A filter value that is wrong; the message says which and why (it becomes the 4xx detail)."""


class RegexTimeout(FilterError):
    pass


def parse_time(value: str, name: str, now: float | None = None) -> float:
    """'15m' (ago), '2h', '1d', an ISO 8601 time ('2025-11-26T11:00', local unless offset given),
    epoch seconds, or 'now' → epoch seconds."""
    now = time.time() if now is None else now
    v = value.strip()
    if v == "now":
        return now
    if m := _RELATIVE.match(v):
        t = now - int(m.group(1)) * _SECONDS[m.group(2)]
    elif re.fullmatch(r"\d{9,11}(\.\d{1,9})?", v):
        t = float(v)
    else:
        try:
            when = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise FilterError(f"{name}: {value[:40]!r} is not a time; use e.g. 15m, 2h, 1d, "
                              "2025-11-26T11:00 or epoch seconds") from None
        try:
            t = when.timestamp()
        except (ValueError, OverflowError, OSError):  # year 1 in local time: no epoch for it
            raise FilterError(f"{name}: {value[:40]!r} is before 1970; no log line is that old") from None
    if t < 0:
        raise FilterError(f"{name}: {value[:40]!r} is before 1970; no log line is that old")
    if t > now + MAX_AHEAD:
        raise FilterError(f"{name}: {value[:40]!r} is more than a year in the future")
    return t


def parse_level(value: str) -> int:
    v = value.strip().lower()
    if v not in LEVEL_ALIASES:
        raise FilterError(f"level: {value[:20]!r} is not a level; use one of {', '.join(LEVELS)} (or 0-7)")
    return LEVEL_ALIASES[v]


def check_unit(value: str) -> str:
    if not UNIT_RE.fullmatch(value):
        raise FilterError(f"unit: {value[:60]!r} is not a systemd unit name (e.g. sshd.service)")
    return value


@dataclass(frozen=True)
class LogFilter:
    q: str | None = None
    regex: regex.Pattern | None = None
    level: int | None = None
    since: float | None = None
    until: float | None = None
    unit: str | None = None

    @classmethod
    def parse(cls, q: str | None = None, regex: str | None = None, level: str | None = None,
              since: str | None = None, until: str | None = None, unit: str | None = None) -> LogFilter:
        """Validate raw query values; empty strings mean "no filter" (an empty form field)."""
        q = q or None
        if q is not None and len(q) > MAX_TEXT:
            raise FilterError(f"q: at most {MAX_TEXT} characters")
        pattern = None
        if regex:
            if len(regex) > MAX_REGEX:
                raise FilterError(f"regex: at most {MAX_REGEX} characters")
            try:
                pattern = _compile(regex)
            except regex_guard.Refused as e:  # invalid, or too costly to compile
                raise FilterError(f"regex: {e}") from None
        lvl = parse_level(level) if level else None
        t0 = parse_time(since, "since") if since else None
        t1 = parse_time(until, "until") if until else None
        if t0 is not None and t1 is not None and t0 > t1:
            raise FilterError("since is after until")
        return cls(q=q, regex=pattern, level=lvl, since=t0, until=t1,
                   unit=check_unit(unit) if unit else None)

    @property
    def active(self) -> bool:
        """True when the last N lines are not simply the last N lines (the reader must scan)."""
        return any(v is not None for v in (self.q, self.regex, self.level, self.since, self.until, self.unit))

    def matcher(self, budget: float = REGEX_BUDGET):
        """A predicate for many lines sharing one regex deadline (raises RegexTimeout past it)."""
        deadline = time.monotonic() + budget
        q = self.q.casefold() if self.q else None

        def match(line: LogLine) -> bool:
            if self.level is not None and (line.level is None or line.level > self.level):
                return False
            if self.since is not None and (line.time is None or line.time < self.since):
                return False
            if self.until is not None and (line.time is None or line.time > self.until):
                return False
            if self.unit is not None and not _unit_matches(line.unit, self.unit):
                return False
            if q is not None and q not in line.message.casefold():
                return False
            if self.regex is not None:
                left = deadline - time.monotonic()
                try:
                    if left <= 0:
                        raise TimeoutError
                    return self.regex.search(line.message, timeout=left, concurrent=True) is not None
                except TimeoutError:
                    raise RegexTimeout(f"regex: matching took longer than {budget:g} s; "
                                       "simplify the pattern") from None
            return True
        return match

    def matches(self, line: LogLine) -> bool:
        return self.matcher()(line)


def _compile(pattern: str) -> regex.Pattern:
    # Smart case, like journalctl --grep: case-insensitive unless the pattern has a capital.
    # Escapes such as \S or \D are not capitals.
    import regex
    flags = 0 if any(c.isupper() for c in re.sub(r"\\.", "", pattern)) else regex.IGNORECASE
    return regex_guard.compile_user(pattern, flags | regex.V0)


def _unit_matches(line_unit: str | None, unit: str) -> bool:
    if line_unit is None:
        return False
    return line_unit == unit or ("." not in unit and line_unit == unit + ".service")
