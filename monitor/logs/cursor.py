"""Reading what was appended to one log file, across rotation: ``FileCursor``.

    cursor = FileCursor(lambda: resolve(source))   # the path, asked again each read (globs)
    cursor.start()                                  # at the end, at a line boundary
    lines = cursor.read_new()                       # complete lines appended since, as bytes

Shared by the live tail (``follow.Follower``) and the logs area (``collectors/logs.py``).
Rotation:
- rename + create (logrotate's default): the old file stays open and is drained to its end, then
  the new file is read from its start; the old one is drained again for a few seconds in case the
  writer kept writing to it before reopening (rsyslog does until its HUP).
- copytruncate: the size dropping below our offset, or the bytes just before our offset changing,
  means truncation. The copy (``<path>.1``, ``<path>-20251126``, …) whose bytes at our offset match
  is read from there to its end first, so lines we had not read yet are not lost; then the
  truncated file from 0. (Lines written between logrotate's copy and its truncate are in neither
  file; that loss is copytruncate's own.)
"""
from __future__ import annotations

import contextlib
import glob
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Bytes read per poll: a burst is read over several polls, each a batch small enough to parse,
# render and send without holding the event loop or a browser for long.
READ_LIMIT = 256 * 1024
COPY_LIMIT = 4 * 1024 * 1024  # bytes read from a copytruncate copy: its unread rest, in one go
CHECK_BYTES = 64  # bytes before our offset remembered to notice a truncate-and-refill
RETIRED_GRACE = 5.0  # seconds a rotated-away file is still drained
COMPRESSED = (".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z", ".zip")
MAX_PARTIAL = 64 * 1024


@dataclass
class _Open:
    f: Any  # binary file object
    dev: int
    ino: int
    pos: int
    partial: bytes = b""
    check: bytes = b""
    retired_at: float | None = None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.f.close()


class FileCursor:
    """Reads the complete lines appended to one file source, across rotation. Not thread-safe:
    one follower calls ``read_new`` from one worker thread at a time."""

    def __init__(self, resolver: Callable[[], str | None]):
        self.resolver = resolver
        self.cur: _Open | None = None
        self.retired: list[_Open] = []
        self.more = False  # True when the last read stopped at READ_LIMIT
        self.started = False

    # -- opening ------------------------------------------------------------------------------
    def _open(self, path: str, at_end: bool) -> _Open | None:
        try:
            f = open(path, "rb")
        except OSError:
            return None
        st = os.fstat(f.fileno())
        pos = 0
        check = b""
        if at_end:
            pos = _line_boundary(f, st.st_size)
            f.seek(max(0, pos - CHECK_BYTES))
            check = f.read(pos - max(0, pos - CHECK_BYTES))
        return _Open(f, st.st_dev, st.st_ino, pos, check=check)

    def start(self) -> tuple[int, int, int] | None:
        """Open at the end (at a line boundary); the (dev, ino, offset) reading continues from."""
        self.started = True
        path = self.resolver()
        self.cur = self._open(path, at_end=True) if path else None
        return self.mark()

    def mark(self) -> tuple[int, int, int] | None:
        c = self.cur
        return (c.dev, c.ino, c.pos - len(c.partial)) if c else None

    def close(self) -> None:
        for o in [*self.retired, *([self.cur] if self.cur else [])]:
            o.close()
        self.retired, self.cur = [], None

    # -- reading ------------------------------------------------------------------------------
    def read_new(self, limit: int = READ_LIMIT) -> list[bytes]:
        if not self.started:
            self.start()
            return []
        out: list[bytes] = []
        now = time.monotonic()
        for old in list(self.retired):  # late writes to a rotated-away file come first
            out += self._drain(old, limit)
            if old.retired_at is not None and now - old.retired_at > RETIRED_GRACE:
                if old.partial:
                    out.append(old.partial)
                old.close()
                self.retired.remove(old)
        path = self.resolver()
        if self.cur is None:  # the file did not exist before: read a new one from its start
            self.cur = self._open(path, at_end=False) if path else None
            if self.cur is None:
                return out
        out += self._drain(self.cur, limit)
        if self.more:
            return out
        if path is not None:
            try:
                st = os.stat(path)
            except OSError:
                return out  # rotated away and not yet recreated: keep reading the open file
            if (st.st_dev, st.st_ino) != (self.cur.dev, self.cur.ino):
                new = self._open(path, at_end=False)
                if new is not None:
                    # Lines written to the old file between our drain and the rename come
                    # before anything in the new file.
                    out += self._drain(self.cur, limit)
                    self.cur.retired_at = now
                    self.retired.append(self.cur)
                    self.cur = new
                    out += self._drain(new, limit)
        return out

    def _drain(self, o: _Open, limit: int) -> list[bytes]:
        """Complete lines appended to ``o`` since our offset, handling truncation."""
        out: list[bytes] = []
        try:
            size = os.fstat(o.f.fileno()).st_size
        except OSError:
            return out
        if size < o.pos or not self._check_holds(o):
            out += self._recover_copy(o)
            o.pos, o.partial, o.check = 0, b"", b""
        self.more = False
        if size <= o.pos:
            return out
        o.f.seek(o.pos)
        data = o.f.read(min(limit, size - o.pos))
        self.more = size - o.pos > limit
        o.pos += len(data)
        o.check = (o.check + data)[-CHECK_BYTES:]
        out += self._split(o, data)
        return out

    @staticmethod
    def _split(o: _Open, data: bytes) -> list[bytes]:
        parts = (o.partial + data).split(b"\n")
        o.partial = parts.pop()
        if len(o.partial) > MAX_PARTIAL:  # an endless "line": hand it over in pieces
            parts.append(o.partial)
            o.partial = b""
        return parts

    @staticmethod
    def _check_holds(o: _Open) -> bool:
        if not o.check:
            return True
        try:
            o.f.seek(o.pos - len(o.check))
            return o.f.read(len(o.check)) == o.check
        except (OSError, ValueError):
            return False

    def _recover_copy(self, o: _Open) -> list[bytes]:
        """After a truncation, read the unread rest from the copy logrotate made, if found."""
        path = self.resolver()
        if not path or not o.check:
            return [o.partial] if o.partial else []
        candidates = [p for p in glob.glob(glob.escape(path) + ".*") + glob.glob(glob.escape(path) + "-*")
                      if not p.endswith(COMPRESSED)]
        candidates.sort(key=_mtime, reverse=True)
        for cand in candidates[:5]:
            try:
                with open(cand, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    if size < o.pos:
                        continue
                    f.seek(o.pos - len(o.check))
                    if f.read(len(o.check)) != o.check:
                        continue
                    rest = f.read(min(COPY_LIMIT, size - o.pos))
            except OSError:
                continue
            lines = self._split(o, rest)
            if o.partial:
                lines.append(o.partial)
            return lines
        return [o.partial] if o.partial else []


def _mtime(p: str) -> float:
    try:
        return os.stat(p).st_mtime
    except OSError:
        return 0.0


def _line_boundary(f, size: int) -> int:
    """Offset just after the last newline before ``size`` (0 if none in the last 64 KiB)."""
    start = max(0, size - MAX_PARTIAL)
    f.seek(start)
    i = f.read(size - start).rfind(b"\n")
    return start + i + 1 if i >= 0 else (start if start else 0)
