"""The last N lines of a source that pass a filter: what /logs and /api/logs show.

    >>> import pathlib, tempfile
    >>> log = pathlib.Path(tempfile.mkdtemp()) / "auth.log"
    >>> _ = log.write_text("2025-11-26T11:32:01+00:00 web1 sshd[812]: error: kex_exchange_identification\\n"
    ...                    "2025-11-26T11:32:04+00:00 web1 sshd[813]: Accepted publickey for ops\\n")
    >>> read_lines(LogSource(name="auth", path=str(log)), 2, LogFilter.parse(level="err"))  # doctest: +NORMALIZE_WHITESPACE
    [LogLine(time=1764156721.0, level=3, source='auth', unit=None, identifier='sshd', pid=812,
             message='2025-11-26T11:32:01+00:00 web1 sshd[812]: error: kex_exchange_identification',
             level_name='err')]
    >>> import shutil; shutil.rmtree(log.parent)

A file is read backwards from its end (tail.reverse_lines) and stops as soon as N lines matched,
after MAX_SCAN bytes or SCAN_SECONDS, or once lines are well before ``since``: a filter on a huge file costs a
bounded read. The journal is asked for the lines by journalctl itself (journal.read).
"""
from __future__ import annotations

import os
import time

from . import journal
from .filters import LogFilter
from .lines import LogLine, decode, guess_level, inert, parse_file_line
from .sources import LogSource, resolve
from .tail import reverse_lines

MAX_SCAN = 64 * 1024 * 1024  # bytes of a file read back at most when looking for matches
SCAN_SECONDS = 2.0  # and for at most this long (a filter that matches nothing in a huge file)
SINCE_SLACK = 300.0  # lines may be a little out of order; stop this far before `since`


class SourceUnavailable(RuntimeError):
    """The source cannot be read now; the message says why (fit to show)."""


def read_lines(source: LogSource, n: int, filt: LogFilter, end: int | None = None) -> list[LogLine]:
    """Up to ``n`` lines, oldest first. ``end`` bounds a file read at a follower's offset."""
    if source.kind == "journal":
        try:
            return journal.read(source.name, source.path, n, filt)
        except journal.JournalError as e:
            raise SourceUnavailable(str(e)) from None
    path = resolve(source)
    if path is None:
        raise SourceUnavailable(f"no file matches {source.path}")
    return read_file(path, source.name, n, filt, end)


def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 else f"{n // 1024} KiB"


class Found(list):
    """The lines found, oldest first, and why the search may have missed older matches."""

    incomplete: str | None = None  # e.g. "searched the last 64 MiB only"; None: nothing missed


def read_file(path: str, name: str, n: int, filt: LogFilter, end: int | None = None) -> Found:
    match = filt.matcher() if filt.active else None
    q = filt.q.casefold() if filt.q else None
    year = time.localtime().tm_year
    deadline = time.monotonic() + SCAN_SECONDS
    out = Found()
    try:
        size = os.stat(path).st_size if end is None else end
        for i, raw in enumerate(reverse_lines(path, end, max_bytes=MAX_SCAN)):
            # At the top, so that lines skipped by a `continue` below count too (cheap: 1 in 1000).
            if i % 1000 == 999 and time.monotonic() > deadline:
                out.incomplete = f"search stopped after {SCAN_SECONDS:g} s; older lines were not searched"
                break
            if match is None:
                out.append(parse_file_line(decode(raw), name, year))
                if len(out) >= n:
                    break
                continue
            # Cheap tests first: most lines of a big file fail the text or level filter, and
            # shaping a line costs several times more than these checks.
            text = inert(decode(raw))
            if q is not None and q not in text.casefold():
                continue
            level = guess_level(text)
            if filt.level is not None and (level is None or level > filt.level):
                continue
            line = parse_file_line(text, name, year, level)
            if match(line):
                out.append(line)
                if len(out) >= n:
                    break
            elif filt.since is not None and line.time is not None and line.time < filt.since - SINCE_SLACK:
                break
        else:  # ran out of lines: the whole file, unless it is bigger than one search may read
            if size > MAX_SCAN:
                out.incomplete = (f"searched the newest {_size(MAX_SCAN)} of the file only; "
                                  "older lines were not searched")
    except PermissionError:
        raise SourceUnavailable("permission denied: run as root or grant read access") from None
    except FileNotFoundError:
        raise SourceUnavailable(f"not found: {path}") from None
    except IsADirectoryError:
        raise SourceUnavailable(f"is a directory, not a log file: {path}") from None
    out.reverse()
    return out

