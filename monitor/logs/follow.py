"""Live tail: one follower per source, shared by every viewer, surviving log rotation.

    follower = hub.follower("syslog")          # started on first use, stopped when unwatched
    async with follower.watching():
        batches, skipped = await follower.wait_after(seq)   # like Store.wait_newer: no per-viewer queue

A file follower polls (every ``interval`` s) and reads what was appended through a ``FileCursor``
(cursor.py: rename + create and copytruncate rotation).
A journal follower runs one ``journalctl --follow --output=json`` and reads its stdout.
Each published batch is kept in a bounded ring; a viewer that falls behind it skips lines (and is
told how many) instead of making the follower hold more.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from . import journal
from ..memo import Memoised
from .cursor import FileCursor
from .filters import LogFilter
from .lines import LogLine, decode, parse_file_line
from .sources import LogSource, resolve

log = logging.getLogger("server_monitor.logs")
_gens = itertools.count(1)


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
