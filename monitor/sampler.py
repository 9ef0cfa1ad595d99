"""The tick loop and the Store: the only place that reads the host for the shared views.

Every tick the Sampler runs each due collector in a worker thread (never on the event loop) and
publishes one immutable Snapshot on schedule, whatever the collectors do:

- A tick waits for the collections it started for at most ``COLLECT_SHARE`` of a tick (and never
  longer than ``collector_timeout``); the first sample, before anything listens, waits up to
  ``collector_timeout``.
- Collections that took under ``BATCH_BELOW`` last time run one after another in one worker
  thread per tick (a hand-off per collector per tick cost more than most reads: 0.03 ms for
  ``virtual_memory``, a futex wake-up and a GIL switch for each); the others, and every
  collector's first, each in a thread of their own. A batch member still queued behind a
  collection that hangs is taken back at the next tick and run in that tick's batch.
- Nobody looking (no page, fragment, API call or stream tick for ``WATCH_WINDOW``): a collector
  that has an ``unwatched_interval`` is read at that pace instead of its ``interval`` (disks,
  network and pressure every 2 s, sensors and the process table every 5 s, the host's facts
  every 10 s; CPU, memory, logs and services keep every tick: their short peaks and lines are
  what history and the events keep). Every area is still judged every tick, on its latest
  reading.
- At most one collection per area is in flight. While one is still running, the area's previous
  value is published and listed in ``snapshot.stale`` (area -> age of that value, seconds); once
  the collection has run for ``collector_timeout`` the area is "unavailable" with a reason (and
  counted once in ``store.failures``). When the late call returns, its result is used.
- The judge runs in its own thread with a budget (monitor/judging.py): a judgment that raises
  or overruns publishes the snapshot unjudged, state "unknown"; never two at once.
- After each published tick the systemd watchdog is pinged (monitor/watchdog.py): pings stop
  only when publishing stops.

- ``close()`` stops the worker threads and calls ``close()`` on every collector that has one
  (files, helper processes), once each, whatever the others do.

Views read ``store.latest`` and wait on ``store.wait_newer(seq)`` (monitor/store.py: Snapshot,
History, Store; re-exported here).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .collection import Run, run_all
from .collectors.base import AreaModel, Closeable, Collector
from .judging import JudgeFn, Judging
from .store import History, Snapshot, Store
from .watchdog import Notifier

__all__ = ["History", "JudgeFn", "Sampler", "Snapshot", "Store"]

log = logging.getLogger("server_monitor.sampler")


BATCH_BELOW = 0.005  # s: a collection this quick last time shares the tick's batch thread
COLLECT_SHARE = 0.5  # of a tick: how long a tick waits for the collections it started
# s: once no view has asked for a snapshot for this long, a collector with an
# ``unwatched_interval`` is read at that slower pace; the next look brings its own pace back at
# the next tick.
WATCH_WINDOW = 10.0


@dataclass(frozen=True)
class _Result:
    """An area's last collection: its data, or the reason it has none."""
    at: float  # monotonic, when the collection started
    data: AreaModel | None
    reason: str | None
    series: Mapping[str, float]


class Sampler:
    def __init__(self, store: Store, collectors: Iterable[Collector], tick: float,
                 timeout: float, judge: JudgeFn | None = None, notifier: Notifier | None = None) -> None:
        self.store = store
        self.collectors = list(collectors)
        self.tick = tick
        self.timeout = timeout
        self.collect_budget = min(COLLECT_SHARE * tick, timeout)
        self.notifier = notifier if notifier is not None else Notifier.from_env()
        # One thread per area is enough (never two collections of one area), so a hung collector
        # cannot starve the others; the judge has its own thread, so it never waits behind them.
        self._pool = ThreadPoolExecutor(max_workers=max(2, len(self.collectors)),
                                        thread_name_prefix="collector")
        self._judging = Judging(judge, tick, timeout) if judge is not None else None
        self._inflight: dict[str, Run] = {}
        self._took: dict[str, float] = {}  # area -> its last successful collection's duration
        self._last: dict[str, _Result] = {}
        self._seq = 0
        self._closed = False
        # The same collectors may serve a second lifespan of the same app (an ASGI test client
        # that starts and stops the app per call): a collector closed by the last Sampler opens
        # again for this one.
        for c in self.collectors:
            if callable(getattr(c, "open", None)):
                c.open()

    async def run(self) -> None:
        """Tick forever on a fixed schedule; a late tick is not made up for, the next one is."""
        # The caller took the first sample; the next is one tick later, so that every rate and
        # percentage is computed over a whole tick (two readings 1 ms apart say nothing).
        start = time.monotonic()
        k = 0
        while True:
            k += 1
            now = time.monotonic()
            due = start + k * self.tick
            if due < now:  # overran: skip the missed ticks rather than burst
                k = int((now - start) / self.tick) + 1
                due = start + k * self.tick
            await asyncio.sleep(due - now)
            self.store.tick_lag.append(max(0.0, time.monotonic() - due))
            await self.sample_once()
            if k == 1:
                # Ready once ticking: the lifespan's first sample ran before uvicorn listened,
                # this one runs a tick after it, with the socket open.
                self.notifier.ready()

    async def sample_once(self) -> Snapshot:
        taken_at, now = time.time(), time.monotonic()
        first = self._seq == 0  # nobody is waiting yet: give the first collections their time
        fresh = self._start_due(now)
        if fresh:
            await asyncio.wait(fresh, timeout=self.timeout if first else self.collect_budget)
        snap = self._assemble(taken_at, now)
        if self._judging is not None:
            snap = await self._judging.judged(snap, self.store.history, first)
        await self.store.publish(snap)
        self.notifier.ping()  # only here: a tick that is not published is not a sign of life
        return snap

    def _start_due(self, now: float) -> list[asyncio.Future]:
        due: list[Collector] = []
        watched = self.store.watched(WATCH_WINDOW)
        for c in self.collectors:
            run = self._inflight.get(c.name)
            if run is not None:
                if run.began is not None or run.done or not run.claim.acquire(blocking=False):
                    continue  # at most one collection per area: a hung one is not started again
                del self._inflight[c.name]  # queued behind a hung one, never begun: taken back
            last = self._last.get(c.name)
            interval = c.interval if watched else getattr(c, "unwatched_interval", c.interval)
            if last is not None and interval and now - last.at < interval - 1e-3:
                continue  # not due: its previous result stays in the snapshot
            due.append(c)
        batch = sorted((c for c in due if self._took.get(c.name, BATCH_BELOW) < BATCH_BELOW),
                       key=lambda c: self._took[c.name])
        alone = [c for c in due if c not in batch]
        loop = asyncio.get_running_loop()
        fresh = []
        for group in ([batch] if batch else []) + [[c] for c in alone]:
            runs = [Run(c, now) for c in group]
            for r in runs:
                self._inflight[r.collector.name] = r
            fresh.append(asyncio.wrap_future(self._pool.submit(run_all, runs, now), loop=loop))
        return fresh

    def _assemble(self, taken_at: float, now: float) -> Snapshot:
        areas: dict[str, AreaModel] = {}
        unavailable: dict[str, str] = {}
        durations: dict[str, float] = {}
        stale: dict[str, float] = {}
        series: dict[str, float] = {}
        at = time.monotonic()
        for c in self.collectors:
            run = self._inflight.get(c.name)
            if run is not None and run.done:
                del self._inflight[c.name]
                self._harvest(c.name, run, durations)
                run = None
            if run is not None and run.began is not None and at - run.began >= self.timeout - 0.01:
                if not run.reported:  # one hang is one failure, however many ticks it lasts
                    run.reported = True
                    self.store.failures[c.name] = self.store.failures.get(c.name, 0) + 1
                    log.warning("collector %s has not finished after %.1f s", c.name, self.timeout)
                unavailable[c.name] = (f"collection has not finished after "
                                       f"{at - run.began:.1f} s (hung?)")
                continue
            last = self._last.get(c.name)
            if last is None:
                unavailable[c.name] = "not collected yet"
            elif last.data is None:
                unavailable[c.name] = last.reason or "unavailable"
            else:
                areas[c.name] = last.data
                series.update(last.series)
                if run is not None:  # the new collection is late: this is the previous value
                    stale[c.name] = round(at - last.at, 3)
        self._seq += 1
        return Snapshot(self._seq, taken_at, areas, unavailable, durations, stale=stale,
                        series=series)

    def _harvest(self, name: str, run: Run, durations: dict[str, float]) -> None:
        outcome = run.outcome
        if not isinstance(outcome, BaseException):
            data, series, took = outcome
            self._last[name] = _Result(run.started, data, None, series)
            durations[name] = self._took[name] = took
            return
        self._took.pop(name, None)  # a failing collector runs alone until it succeeds again
        if not run.reported:
            self.store.failures[name] = self.store.failures.get(name, 0) + 1
        log.warning("collector %s failed: %s", name, outcome, exc_info=outcome)
        self._last[name] = _Result(run.started, None, f"{type(outcome).__name__}: {outcome}", {})

    def close(self) -> None:
        """Stop the threads, then close every collector that has a ``close()`` (the protocol's
        optional method); one that raises is logged and the others are still closed."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._judging is not None:
            self._judging.close()
        for c in self.collectors:
            if isinstance(c, Closeable):
                try:
                    c.close()
                except Exception as exc:  # noqa: BLE001 - shutting down: report and go on
                    log.warning("collector %s did not close cleanly: %s", c.name, exc, exc_info=exc)
        self.notifier.stopping()

