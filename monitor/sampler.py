"""The tick loop and the Store: the only place that reads the host for the shared views.

Every tick the Sampler runs each due collector in a worker thread (never on the event loop),
bounded by ``collector_timeout``; a collector that raises or hangs makes its area "unavailable"
with a reason while every other area is still published. The result is one immutable Snapshot;
views read ``store.latest`` and wait on ``store.wait_newer(seq)``. Whatever a view derives from
a snapshot (rendered cards, JSON bytes) is memoised on the snapshot with ``snapshot.memo`` so that
it is made once per tick however many clients ask.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from .collectors.base import AreaModel, Collector
from .memo import Memoised

log = logging.getLogger("server_monitor.sampler")


@dataclass(frozen=True)
class Snapshot(Memoised):
    seq: int  # 1, 2, 3 ... one per tick since start
    taken_at: float  # wall clock (epoch seconds) at the start of the tick
    areas: Mapping[str, AreaModel]  # area name -> data, for areas collected successfully
    unavailable: Mapping[str, str]  # area name -> reason it could not be collected
    durations: Mapping[str, float] = field(default_factory=dict)  # area -> seconds spent
    # Judgment of this snapshot (monitor/health.py): whatever the judge returned, in order.
    verdicts: tuple[Any, ...] = ()
    # Per-snapshot memo of derived bytes (rendered cards, JSON); not part of equality.
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def get(self, area: str) -> AreaModel | None:
        return self.areas.get(area)

    def state_of(self, area: str) -> str:
        """Worst verdict state for an area: "ok", "warning", "critical", or "unknown" when the
        area could not be collected. Verdicts need ``.area`` and ``.state`` attributes."""
        if area in self.unavailable:
            return "unknown"
        states = {getattr(v, "state", "ok") for v in self.verdicts if getattr(v, "area", None) == area}
        for s in ("critical", "warning"):
            if s in states:
                return s
        return "ok"



class History:
    """Ring buffers of (taken_at, value) per series name, ``length`` points each."""

    def __init__(self, length: int, max_age: float | None = None) -> None:
        self.length = length
        self.max_age = max_age  # a series with no point this recent is dropped
        self._series: dict[str, deque[tuple[float, float]]] = {}

    def add(self, taken_at: float, values: Mapping[str, float]) -> None:
        for name, value in values.items():
            buf = self._series.get(name)
            if buf is None:
                buf = self._series[name] = deque(maxlen=self.length)
            buf.append((taken_at, float(value)))
        if self.max_age is not None:
            # Interfaces and mounts come and go (vnetN, docker bridges, USB disks): a console that
            # runs for months must not keep a buffer for each one it ever saw.
            stale = [n for n, buf in self._series.items() if buf[-1][0] < taken_at - self.max_age]
            for name in stale:
                del self._series[name]

    def names(self) -> list[str]:
        return sorted(self._series)

    def points(self, name: str, seconds: float | None = None) -> list[tuple[float, float]]:
        buf = self._series.get(name)
        if not buf:
            return []
        if seconds is None:
            return list(buf)
        since = buf[-1][0] - seconds
        return [p for p in buf if p[0] >= since]


class Store:
    """The latest snapshot, its history, and a condition every waiting view is woken on."""

    def __init__(self, history_length: int, history_seconds: float | None = None) -> None:
        self.latest: Snapshot | None = None
        self.history = History(history_length, max_age=history_seconds)
        self._changed = asyncio.Condition()
        self.tick_lag: deque[float] = deque(maxlen=600)  # seconds late each tick started
        self.failures: dict[str, int] = {}  # area -> failed collections since start

    async def publish(self, snap: Snapshot, series: Mapping[str, float]) -> None:
        self.history.add(snap.taken_at, series)
        self.latest = snap
        async with self._changed:
            self._changed.notify_all()

    async def wait_newer(self, seq: int) -> Snapshot:
        """The latest snapshot newer than ``seq``. A slow client that missed ticks gets only the
        newest one: a monitor needs the current value, not a backlog."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.latest is not None and self.latest.seq > seq)
        assert self.latest is not None
        return self.latest


# judge(snapshot, history) -> verdicts; runs once per tick, in a worker thread, after collection.
Judge = Callable[["Snapshot", "History"], Iterable[Any]]


class Sampler:
    def __init__(self, store: Store, collectors: Iterable[Collector], tick: float,
                 timeout: float, judge: Judge | None = None) -> None:
        self.store = store
        self.judge = judge
        self.collectors = list(collectors)
        self.tick = tick
        self.timeout = timeout
        # One thread per collector at most, so a hung collector cannot starve the others.
        self._pool = ThreadPoolExecutor(max_workers=max(2, len(self.collectors)),
                                        thread_name_prefix="collector")
        self._inflight: dict[str, tuple[Future, float]] = {}
        self._last: dict[str, tuple[float, AreaModel | None, str | None, dict[str, float]]] = {}
        self._seq = 0

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

    async def sample_once(self) -> Snapshot:
        taken_at, now = time.time(), time.monotonic()
        loop = asyncio.get_running_loop()
        started: dict[str, asyncio.Future] = {}
        for c in self.collectors:
            last = self._last.get(c.name)
            if last is not None and c.interval and now - last[0] < c.interval - 1e-3:
                continue  # not due: its previous result stays in the snapshot
            if c.name in self._inflight:
                continue  # still running from an earlier tick (hung): reported below
            fut = self._pool.submit(_timed, c.collect, now)
            self._inflight[c.name] = (fut, now)
            started[c.name] = asyncio.wrap_future(fut, loop=loop)
        if started:
            await asyncio.wait(started.values(), timeout=self.timeout)
            for f in started.values():  # errors are read from the thread's future below;
                if f.done() and not f.cancelled():  # mark the loop's copy as seen, so asyncio
                    f.exception()  # does not log "exception was never retrieved"

        areas: dict[str, AreaModel] = {}
        unavailable: dict[str, str] = {}
        durations: dict[str, float] = {}
        series: dict[str, float] = {}
        for c in self.collectors:
            inflight = self._inflight.get(c.name)
            if inflight is not None:
                fut, since = inflight
                if not fut.done():
                    stuck = time.monotonic() - since
                    self._fail(c.name, now, f"collection has not finished after {stuck:.0f} s (hung?)")
                else:
                    del self._inflight[c.name]
                    try:
                        data, took = fut.result()
                        self._last[c.name] = (now, data, None, c.series(data))
                        durations[c.name] = took
                    except Exception as exc:  # noqa: BLE001 - any failure is reported, never fatal
                        log.warning("collector %s failed: %s", c.name, exc, exc_info=exc)
                        self._fail(c.name, now, f"{type(exc).__name__}: {exc}")
            _, data, reason, s = self._last.get(c.name, (now, None, "not collected yet", {}))
            if data is not None and reason is None:
                areas[c.name] = data
                series.update(s)
            else:
                unavailable[c.name] = reason or "unavailable"
        self._seq += 1
        snap = Snapshot(self._seq, taken_at, areas, unavailable, durations)
        if self.judge is not None:
            try:
                # In a worker thread: judging also appends to the events file, and a slow disk
                # must not stall every stream. The judge is only ever called from here, one at a time.
                judge, history = self.judge, self.store.history
                verdicts = await asyncio.to_thread(lambda: tuple(judge(snap, history)))
                snap = replace(snap, verdicts=verdicts)
            except Exception as exc:  # noqa: BLE001 - a judgment bug must not stop the console
                log.exception("judge failed: %s", exc)
        await self.store.publish(snap, series)
        return snap

    def _fail(self, name: str, now: float, reason: str) -> None:
        self.store.failures[name] = self.store.failures.get(name, 0) + 1
        self._last[name] = (now, None, reason, {})

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _timed(fn: Callable[[float], AreaModel], now: float) -> tuple[AreaModel, float]:
    t0 = time.perf_counter()
    data = fn(now)
    return data, time.perf_counter() - t0
