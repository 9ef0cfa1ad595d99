"""The judge's thread and budget: each tick's judgment, run beside the event loop, never held by it.

``Judging.judged(snapshot, history, first)`` returns the snapshot with its verdicts, or with
``judge_error`` set (every view then shows state "unknown", monitor/health.py) when judging
raised, overran ``JUDGE_SHARE`` of a tick, or the previous judgment is still running: never two
judgments at once, and a late one is not queued behind. monitor/sampler.py calls it every tick.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from .store import History, Snapshot

log = logging.getLogger("server_monitor.judging")

# judge(snapshot, history) -> verdicts; runs once per tick, in its own thread, after collection.
# monitor.health.Judge (a class) is one; any callable of this shape will do.
JudgeFn = Callable[[Snapshot, History], Iterable[Any]]

JUDGE_SHARE = 0.3  # of a tick: how long a tick waits for the judgment...
JUDGE_MIN = 0.25  # ...but at least this long (s): a GIL-busy process table must not fail a 0.2 s tick


class Judging:
    def __init__(self, judge: JudgeFn, tick: float, timeout: float) -> None:
        self.judge = judge
        self.timeout = timeout  # the first judgment's budget, before anything listens
        self.budget = min(max(JUDGE_SHARE * tick, JUDGE_MIN), timeout)
        # Its own thread, so it never waits behind a collector.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="judge")
        self._late: tuple[asyncio.Future, int, float] | None = None  # (future, seq, started)

    async def judged(self, snap: Snapshot, history: History, first: bool = False) -> Snapshot:
        """The snapshot with its verdicts, or with ``judge_error`` when judging raised, overran
        its budget, or the previous judgment is still running (never two at once)."""
        if self._late is not None:
            fut, seq, started = self._late
            if not fut.done():
                return replace(snap, judge_error=f"the judgment of sample {seq} is still running "
                                                 f"after {time.monotonic() - started:.1f} s")
            self._late = None
        budget = self.timeout if first else self.budget
        judge = self.judge
        # In a thread: judging also appends to the events file, and a slow disk must not stall
        # every stream.
        fut = asyncio.wrap_future(self._pool.submit(lambda: tuple(judge(snap, history))),
                                  loop=asyncio.get_running_loop())
        done, _ = await asyncio.wait([fut], timeout=budget)
        if not done:
            self._late = (fut, snap.seq, time.monotonic() - budget)
            fut.add_done_callback(_retrieve)
            log.warning("judging sample %d took longer than %.2f s: published unjudged", snap.seq, budget)
            return replace(snap, judge_error=f"judging took longer than {budget:.2f} s")
        exc = fut.exception()
        if exc is not None:
            log.error("judge failed: %s", exc, exc_info=exc)
            return replace(snap, judge_error=f"judging failed: {type(exc).__name__}: {exc}")
        return replace(snap, verdicts=fut.result())

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _retrieve(fut: asyncio.Future) -> None:
    """A late judgment's outcome is not used; read it so that asyncio does not log it as lost."""
    if not fut.cancelled() and (exc := fut.exception()) is not None:
        log.error("late judgment failed: %s", exc, exc_info=exc)
