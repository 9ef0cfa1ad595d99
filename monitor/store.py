"""What the sampler publishes and every view reads: the Snapshot, the History, the Store.

A ``Snapshot`` is one tick's data, immutable once published; whatever a view derives from it (a
card's HTML, JSON bytes) is memoised on it with ``snapshot.memo``, so it is made once per tick
however many clients ask. ``History`` keeps the ring buffers behind the sparklines and
/api/history. ``Store`` holds the latest snapshot and wakes every view waiting in
``wait_newer``. monitor/sampler.py fills it.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .collectors.base import AreaModel
from .memo import Memoised
from .ring import Ring, Window


_RANK = {"critical": 0, "unknown": 1, "warning": 2, "ok": 3}  # the worst first


@dataclass(frozen=True)
class Snapshot(Memoised):
    seq: int  # 1, 2, 3 ... one per tick since start
    taken_at: float  # wall clock (epoch seconds) at the start of the tick
    areas: Mapping[str, AreaModel]  # area name -> data, for areas collected successfully
    unavailable: Mapping[str, str]  # area name -> reason it could not be collected
    durations: Mapping[str, float] = field(default_factory=dict)  # area -> seconds spent
    # Judgment of this snapshot (monitor/health.py): whatever the judge returned, in order.
    verdicts: tuple[Any, ...] = ()
    # Why this snapshot has no judgment (the judge raised or overran); None when judged.
    judge_error: str | None = None
    # Areas published with their previous value because a collection is still running -> age, s.
    stale: Mapping[str, float] = field(default_factory=dict)
    # Every area's history values at this tick (each collector's ``series(data)``, made in the
    # worker thread): what the rings and the per-minute history record.
    series: Mapping[str, float] = field(default_factory=dict)
    # Per-snapshot memo of derived bytes (rendered cards, JSON); not part of equality. Not an
    # __init__ argument, so ``replace(snap, verdicts=...)`` (monitor/judging.py) starts a new
    # one: what was derived from the unjudged snapshot must not stand for the judged one.
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, init=False)

    def get(self, area: str) -> AreaModel | None:
        return self.areas.get(area)

    def state_of(self, area: str) -> str:
        """Worst verdict state for an area: "ok", "warning", "critical", or "unknown" when the
        area could not be collected, one of its checks could not be judged, or judging failed
        (a known critical still shows as critical); "unjudged" when no verdict is about it (every
        one of its checks is disabled): never "ok" for what was not judged. Verdicts need
        ``.area`` and ``.state``."""
        if area in self.unavailable or self.judge_error is not None:
            return "unknown"
        return self.memo("state_of", self._worst_states).get(area, "unjudged")

    def _worst_states(self) -> dict[str, str]:
        """Every area's worst state, made once per snapshot: each card, the banner and the API
        ask, and each asking walked every verdict (issue 19)."""
        worst: dict[str, str] = {}
        for v in self.verdicts:
            area, state = getattr(v, "area", None), getattr(v, "state", "ok")
            if state in _RANK and (area not in worst or _RANK[state] < _RANK[worst[area]]):
                worst[area] = state
        return worst

    def pending_of(self, area: str) -> list:
        """The area's verdicts on their way to a worse state, worst first, then soonest (what a
        card's title names). Worked out once per snapshot for every area, not in each card's
        template: the template's select/sort filters were a quarter of a dashboard's rendering."""
        def make() -> dict[str, list]:
            by_area: dict[str, list] = {}
            coming = [v for v in self.verdicts
                      if getattr(v, "pending", None) and getattr(v, "pending_in", None) is not None]
            for v in sorted(coming, key=lambda v: (v.pending != "critical", v.pending_in)):
                by_area.setdefault(getattr(v, "area", None), []).append(v)
            return by_area
        return self.memo("pending_of", make).get(area, [])


class History:
    """A ring of (taken_at, value) per series name, ``length`` points each."""

    def __init__(self, length: int, max_age: float | None = None) -> None:
        self.length = length
        self.max_age = max_age  # a series with no point this recent is dropped
        self._series: dict[str, Ring] = {}

    def add(self, taken_at: float, values: Mapping[str, float]) -> None:
        for name, value in values.items():
            ring = self._series.get(name)
            if ring is None:
                ring = self._series[name] = Ring(self.length)
            ring.append(taken_at, float(value))
        if self.max_age is not None:
            # Interfaces and mounts come and go (vnetN, docker bridges, USB disks): a console that
            # runs for months must not keep a buffer for each one it ever saw.
            stale = [n for n, ring in self._series.items() if ring.last_time() < taken_at - self.max_age]
            for name in stale:
                del self._series[name]

    def names(self) -> list[str]:
        return sorted(self._series)

    def window(self, name: str, seconds: float) -> Window | list:
        """The last ``seconds`` of the series as a ``Window`` (what the cards' sparklines draw),
        or [] when there is none."""
        ring = self._series.get(name)
        if not ring or not ring.size:
            return []
        return Window(ring, ring.within(seconds))

    def points(self, name: str, seconds: float | None = None) -> list[tuple[float, float]]:
        """The series' points, the last ``seconds`` of them if given: ``Points``, or []."""
        ring = self._series.get(name)
        if not ring or not ring.size:
            return []
        return ring.points(None if seconds is None else ring.within(seconds))


class Store:
    """The latest snapshot, its history, and a condition every waiting view is woken on."""

    def __init__(self, history_length: int, history_seconds: float | None = None) -> None:
        self.latest: Snapshot | None = None
        # Monotonic time a view last asked for a snapshot (``seen()``: a page, a fragment, the
        # API, a stream's tick; not the history recorder or the notifier, which also wait on
        # the store): the sampler reads some areas less often while nobody looks. Start-up
        # counts as a look, so a console just started is read as if watched.
        self.seen_at = time.monotonic()
        self.history = History(history_length, max_age=history_seconds)
        self._changed = asyncio.Condition()
        self.tick_lag: deque[float] = deque(maxlen=600)  # seconds late each tick started
        self.failures: dict[str, int] = {}  # area -> failed collections since start

    async def publish(self, snap: Snapshot) -> None:
        self.history.add(snap.taken_at, snap.series)
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

    def seen(self) -> Snapshot | None:
        """``latest``, for a view: it also records that someone is looking (``watched``)."""
        self.seen_at = time.monotonic()
        return self.latest

    def watched(self, within: float) -> bool:
        """Whether a view asked for a snapshot in the last ``within`` seconds."""
        return time.monotonic() - self.seen_at < within
