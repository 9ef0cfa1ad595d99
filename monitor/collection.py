"""The worker side of a tick: one collection as the sampler hands it to a thread.

monitor/sampler.py decides what is due and when to give up waiting; a worker thread runs a list
of ``Run`` one after another (``run_all``: the tick's quick collectors share one thread). Each
``Run`` is claimed by whoever starts it, so the sampler can take back one still queued behind a
collection that hangs and hand it to the next tick's thread, and the old thread skips it.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from .collectors.base import AreaModel, Collector


@dataclass(eq=False)
class Run:
    """One collection in flight: submitted at ``started`` (the tick's time), begun by a worker
    thread at ``began`` once it holds ``claim``, done when ``outcome`` is set."""
    collector: Collector
    started: float  # monotonic
    claim: threading.Lock = field(default_factory=threading.Lock)
    began: float | None = None
    outcome: tuple[AreaModel, Mapping[str, float], float] | BaseException | None = None
    reported: bool = False  # already counted as hung

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def run(self, now: float) -> None:
        """In a worker thread: the collection, unless the sampler took it back first."""
        if not self.claim.acquire(blocking=False):
            return
        self.began = time.monotonic()
        try:
            self.outcome = collect(self.collector, now)
        except BaseException as exc:  # noqa: BLE001 - the sampler reports it, per area
            self.outcome = exc


def run_all(runs: list[Run], now: float) -> None:
    """One worker thread's share of a tick: its collections, one after another."""
    for r in runs:
        r.run(now)


def collect(c: Collector, now: float) -> tuple[AreaModel, Mapping[str, float], float]:
    """One collection, in a worker thread; ``series`` too, since it is the collector's code."""
    t0 = time.perf_counter()
    data = c.collect(now)
    series = c.series(data)
    return data, series, time.perf_counter() - t0
