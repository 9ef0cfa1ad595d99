"""Live tail: one follower per source, shared by every viewer, surviving log rotation.

    follower = hub.follower("syslog")          # started on first use, stopped when unwatched
    async with follower.watching():
        batches, skipped = await follower.wait_after(seq)   # like Store.wait_newer: no per-viewer queue

A file follower polls (every ``interval`` s) and reads what was appended. Rotation:
- rename + create (logrotate's default): the old file stays open and is drained to its end, then
  the new file is read from its start; the old one is drained again for a few seconds in case the
  writer kept writing to it before reopening (rsyslog does until its HUP).
- copytruncate: the size dropping below our offset, or the bytes just before our offset changing,
  means truncation. The copy (``<path>.1``, ``<path>-20251126``, …) whose bytes at our offset match
  is read from there to its end first, so lines we had not read yet are not lost; then the
  truncated file from 0. (Lines written between logrotate's copy and its truncate are in neither
  file; that loss is copytruncate's own.)
A journal follower runs one ``journalctl --follow --output=json`` and reads its stdout.
Each published batch is kept in a bounded ring; a viewer that falls behind it skips lines (and is
told how many) instead of making the follower hold more.
"""
from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import journal
from .filters import LogFilter
from ..memo import Memoised
from .lines import LogLine, decode, parse_file_line
from .sources import LogSource, resolve

log = logging.getLogger("server_monitor.logs")

# Bytes read per poll: a burst is read over several polls, each a batch small enough to parse,
# render and send without holding the event loop or a browser for long.
READ_LIMIT = 256 * 1024
COPY_LIMIT = 4 * 1024 * 1024  # bytes read from a copytruncate copy: its unread rest, in one go
CHECK_BYTES = 64  # bytes before our offset remembered to notice a truncate-and-refill
RETIRED_GRACE = 5.0  # seconds a rotated-away file is still drained
COMPRESSED = (".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z", ".zip")
MAX_PARTIAL = 64 * 1024
_gens = itertools.count(1)


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


@dataclass
class Batch(Memoised):
    """Lines published together; ``first`` is the seq of the first (seqs count lines from 1)."""
    first: int
    lines: tuple[LogLine, ...]
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def last(self) -> int:
        return self.first + len(self.lines) - 1



class Follower:
    """Follows one source; viewers wait on it. Stops itself ``linger`` s after its last viewer."""

    def __init__(self, source: LogSource, interval: float, ring_lines: int, linger: float):
        self.source = source
        self.interval = interval
        self.ring_lines = ring_lines
        self.linger = linger
        self.gen = f"{next(_gens)}.{int(time.time())}"  # a restarted follower numbers anew
        self.seq = 0
        self.ring: deque[Batch] = deque()
        self.ring_count = 0
        self.error: str | None = None
        self.offset: tuple[int, int, int] | None = None  # file: (dev, ino, end of line seq)
        self.viewers = 0
        self.last_used = time.monotonic()
        self.ready = asyncio.Event()
        self._changed = asyncio.Condition()
        self.task: asyncio.Task | None = None

    # -- viewers ------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def watching(self):
        self.viewers += 1
        try:
            yield self
        finally:
            self.viewers -= 1
            self.last_used = time.monotonic()

    def touch(self) -> None:
        self.last_used = time.monotonic()

    async def wait_after(self, seq: int, timeout: float | None = None) -> tuple[list[Batch], int]:
        """Batches with lines after ``seq`` (waiting for some), and how many lines were skipped
        because they already left the ring."""
        async with self._changed:
            if self.seq <= seq:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: self.seq > seq), timeout)
        batches = [b for b in self.ring if b.last > seq]
        skipped = max(0, batches[0].first - seq - 1) if batches else 0
        return batches, skipped

    async def publish(self, lines: list[LogLine], offset: tuple[int, int, int] | None = None) -> None:
        """Append a batch. seq, ring and offset change together, before any await, so a page's
        ``mark()`` always names an offset and a seq that agree."""
        self.offset = offset
        if lines:
            batch = Batch(self.seq + 1, tuple(lines))
            self.ring.append(batch)
            self.ring_count += len(lines)
            while len(self.ring) > 1 and self.ring_count - len(self.ring[0].lines) >= self.ring_lines:
                self.ring_count -= len(self.ring.popleft().lines)
            self.seq = batch.last
            async with self._changed:
                self._changed.notify_all()

    def mark(self) -> tuple[str, int, tuple[int, int, int] | None]:
        """(generation, seq, file offset): a page shows lines up to here, its stream the rest."""
        return self.gen, self.seq, self.offset

    async def _set_error(self, error: str | None) -> None:
        self.error = error  # viewers look at it each time they wake (at least every few seconds)

    def idle(self) -> bool:
        return self.viewers == 0 and time.monotonic() - self.last_used > self.linger

    # -- the loop -------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            if self.source.kind == "journal":
                await self._run_journal()
            else:
                await self._run_file()
        finally:
            self.ready.set()

    async def _run_file(self) -> None:
        src = self.source
        cursor = FileCursor(lambda: resolve(src))
        try:
            self.offset = await asyncio.to_thread(cursor.start)
            self.ready.set()
            while not self.idle():
                lines, mark = await asyncio.to_thread(_poll, cursor, src.name)
                await self._set_error(None if cursor.cur else "waiting for the file to appear")
                await self.publish(lines, mark)
                # During a burst poll again at once, but let the loop run in between.
                await asyncio.sleep(0 if cursor.more else self.interval)
        finally:
            await asyncio.to_thread(cursor.close)

    async def _run_journal(self) -> None:
        backoff = 1.0
        self.ready.set()
        while not self.idle():
            try:
                exe = journal.journalctl()
            except journal.JournalError as e:
                await self._set_error(str(e))
                await asyncio.sleep(5)
                continue
            args = journal.build_args(exe, self.source.path, LogFilter(), None, follow=True)
            proc = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL, env=journal.ENV, limit=1024 * 1024)
            await self._set_error(None)
            try:
                await self._read_journal(proc)
            finally:
                if proc.returncode is None:
                    proc.terminate()
                    try:
                        await asyncio.wait_for(proc.wait(), 2)
                    except TimeoutError:
                        proc.kill()
                        await proc.wait()
            if not self.idle():
                await self._set_error(f"journalctl exited (status {proc.returncode}); restarting")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)

    async def _read_journal(self, proc) -> None:
        assert proc.stdout is not None
        pending: list[LogLine] = []
        while not self.idle():
            try:
                raw = await asyncio.wait_for(proc.stdout.readline(), self.interval if pending else 1.0)
            except TimeoutError:
                await self.publish(pending)
                pending = []
                continue
            except ValueError:  # a line over the limit: skip it
                continue
            if not raw:
                await self.publish(pending)
                return
            if entry := journal.parse_entry(raw, self.source.name):
                pending.append(entry)
            if len(pending) >= 500:
                await self.publish(pending)
                pending = []


def _poll(cursor: FileCursor, name: str) -> tuple[list[LogLine], tuple[int, int, int] | None]:
    """Read and shape the new lines (in a worker thread: parsing a burst costs CPU) and the mark."""
    year = time.localtime().tm_year
    return [parse_file_line(decode(b), name, year) for b in cursor.read_new()], cursor.mark()


class LogHub:
    """The followers, one per source name, created on demand and dropped when they stop."""

    def __init__(self, sources: dict[str, LogSource], interval: float = 0.25,
                 ring_lines: int = 5000, linger: float = 30.0):
        self.sources = sources
        self.interval = interval
        self.ring_lines = ring_lines
        self.linger = linger
        self.followers: dict[str, Follower] = {}

    def follower(self, name: str) -> Follower:
        f = self.followers.get(name)
        if f is None or f.task is None or f.task.done():
            f = Follower(self.sources[name], self.interval, self.ring_lines, self.linger)
            f.task = asyncio.create_task(self._run(f), name=f"logs:{name}")
            self.followers[name] = f
        f.touch()
        return f

    async def _run(self, f: Follower) -> None:
        try:
            await f.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # a follower's bug must not take the page down
            log.exception("log follower for %s failed", f.source.name)
        finally:
            if self.followers.get(f.source.name) is f:
                del self.followers[f.source.name]

    async def close(self) -> None:
        tasks = [f.task for f in self.followers.values() if f.task]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self.followers.clear()
