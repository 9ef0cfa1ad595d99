"""One log line as every view sees it, plus the two things every reader needs: levels and inert text.

    >>> parse_file_line("2025-11-26T11:32:01+00:00 web1 sshd[812]: error: \\x1b[31mbad\\x1b[0m key",
    ...                 "auth")  # doctest: +NORMALIZE_WHITESPACE
    LogLine(time=1764156721.0, level=3, source='auth', unit=None, identifier='sshd', pid=812,
            message='2025-11-26T11:32:01+00:00 web1 sshd[812]: error: bad key', level_name='err')

A classic syslog time has no year and no zone: it is read in the host's local time, in ``year``.

    >>> line = parse_file_line("Nov 26 11:32:01 web1 CRON[9]: (root) CMD (true)", "syslog", year=2025)
    >>> time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(line.time)), line.level, line.identifier
    ('2025-11-26 11:32:01', None, 'CRON')

Levels are syslog priorities (0 emerg … 7 debug), the journal's PRIORITY field; for file lines a
best-effort guess from words like "error" or "warning" (None when the line says nothing).
Messages are made inert here, once: ANSI escape sequences are removed, and everything else that
could steer a terminal or a page (C0 and C1 controls, NEL U+0085, the bidi overrides U+202E and
friends) is shown as a visible escape (``\x07``, ``\x85``, ``\u202e``) by monitor/text.py, the
one scheme every host string uses; tab is kept. Invalid UTF-8 became U+FFFD in ``decode``, and a
lone surrogate (a journal JSON string may carry one) becomes U+FFFD too. HTML is left as text;
autoescape in the templates makes it inert in the browser.
"""
from __future__ import annotations

import re
import time
from datetime import datetime

from pydantic import BaseModel, ConfigDict, computed_field

from monitor.text import clean_cut

LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")

# Names a request may use for a level; each means "this and more severe".
LEVEL_ALIASES = {name: i for i, name in enumerate(LEVELS)} | {
    "emergency": 0, "panic": 0, "critical": 2, "error": 3, "warn": 4,
    **{str(i): i for i in range(8)},
}

# Longest message kept per line: a 10 MB line must not become a 10 MB page.
MAX_MESSAGE = 8192


class LogLine(BaseModel):
    """A line of any source. ``time`` is epoch seconds; ``level`` a syslog priority or None."""

    model_config = ConfigDict(frozen=True)

    time: float | None = None
    level: int | None = None
    source: str
    unit: str | None = None
    identifier: str | None = None
    pid: int | None = None
    message: str

    @computed_field(description="the level's name (emerg … debug), '-' when unknown")
    @property
    def level_name(self) -> str:
        return LEVELS[self.level] if self.level is not None else "-"


# CSI (ESC [ … final), OSC (ESC ] … BEL or ST), other two-byte ESC sequences, and the 8-bit CSI.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
# Raw characters looked at per message: escapes only shorten a line, and the rest would be cut.
_SCAN_MAX = 4 * MAX_MESSAGE


def inert(text: str) -> str:
    """Remove ANSI escapes; show every other control character (bar tab), C1 control and bidi
    mark as a visible escape (monitor.text.clean); at most MAX_MESSAGE characters."""
    long = len(text) > _SCAN_MAX
    if long:  # bound the work: a 10 MB line costs what its first 32 KiB cost
        text = text[:_SCAN_MAX]
    if "\x1b" in text or "\x9b" in text:
        text = _ANSI.sub("", text)
    text, cut = clean_cut(text, MAX_MESSAGE)
    if cut or long:
        text += " …[truncated]"
    return text


def decode(raw: bytes) -> str:
    """Bytes from a file or the journal to text; invalid UTF-8 becomes U+FFFD, never an error."""
    return raw.decode("utf-8", errors="replace")


_LEVEL_WORDS = re.compile(
    r"\b(emerg(?:ency)?|panic|crit(?:ical)?|fatal|err(?:or)?|fail(?:ed|ure)?|warn(?:ing)?"
    r"|notice|info|debug)\b", re.IGNORECASE)
# "alert" is left out: as a word it is common in messages ("alert(1)", "sent alert") and rare as a level.
_WORD_LEVEL = {"emerg": 0, "emergency": 0, "panic": 0, "crit": 2, "critical": 2,
               "fatal": 2, "err": 3, "error": 3, "fail": 3, "failed": 3, "failure": 3,
               "warn": 4, "warning": 4, "notice": 5, "info": 6, "debug": 7}


# Most lines hold no level word: this plain search (no \\b, no IGNORECASE) rules them out ~5x faster.
_LEVEL_HINT = re.compile(r"emerg|panic|crit|fatal|err|fail|warn|notice|info|debug")


def guess_level(message: str) -> int | None:
    """Best-effort level of a plain text line: the most severe level word in it, else None."""
    head = message[:2048]
    if not _LEVEL_HINT.search(head.lower()):
        return None
    found = [_WORD_LEVEL[m.group(1).lower()] for m in _LEVEL_WORDS.finditer(head)]
    return min(found) if found else None


# Traditional syslog "Nov 26 11:32:01 host tag[pid]: msg" (Rocky's rsyslog default) and
# RFC 3339 "2025-11-26T11:32:01.123456+01:00 host tag[pid]: msg" (Debian 12's rsyslog default).
_SYSLOG_OLD = re.compile(r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\S+) ([^\s\[:]+)(?:\[(\d+)\])?:")
_ISO = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
                  r"(?: (\S+) ([^\s\[:]+)(?:\[(\d+)\])?:)?")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def parse_file_line(text: str, source: str, year: int | None = None, level: int | None = -1) -> LogLine:
    """Shape one decoded file line: time, identifier and pid when it is syslog-shaped.

    ``level`` may be passed when the caller already guessed it (a filter did, to skip lines early).
    """
    when = ident = pid = None
    if m := _SYSLOG_OLD.match(text):
        mon = _MONTHS.get(m.group(1))
        if mon:
            when = _old_syslog_time(year, mon, *(int(m.group(i)) for i in range(2, 6)))
            ident, pid = m.group(7), m.group(8)
    elif m := _ISO.match(text):
        try:
            dt = datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
            when = dt.timestamp()  # naive times are local, like the syslog daemon wrote them
        except ValueError:
            when = None
        ident, pid = m.group(3), m.group(4)
    message = inert(text)
    return LogLine(time=when, level=guess_level(message) if level == -1 else level, source=source, identifier=ident,
                   pid=int(pid) if pid else None, message=message)


def _old_syslog_time(year: int | None, mon: int, day: int, hh: int, mm: int, ss: int) -> float | None:
    """The traditional format has no year: take this year, or last year if that is in the future."""
    now = time.time()
    y = year or time.localtime(now).tm_year
    try:
        t = time.mktime((y, mon, day, hh, mm, ss, 0, 0, -1))
        if year is None and t > now + 86400:  # "Dec 31" read on Jan 1
            t = time.mktime((y - 1, mon, day, hh, mm, ss, 0, 0, -1))
    except (OverflowError, ValueError):
        return None
    return t
