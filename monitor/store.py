"""What the sampler publishes and every view reads: the Snapshot, the History, the Store.

A ``Snapshot`` is one tick's data, immutable once published; whatever a view derives from it (a
card's HTML, JSON bytes) is memoised on it with ``snapshot.memo``, so it is made once per tick
however many clients ask. ``History`` keeps the ring buffers behind the sparklines and
/api/history. ``Store`` holds the latest snapshot and wakes every view waiting in
``wait_newer``. monitor/sampler.py fills it.
"""
from __future__ import annotations

import asyncio
import itertools
import time
from array import array
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .collectors.base import AreaModel
from .memo import Memoised


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


class Points(list):
    """A series' (time, value) points, oldest first, and where they sit in their ring: ``ring``
    names the ring (never reused) and ``first`` is how many points it had taken before the first
    of these. The point at (ring, index) never changes, so views/charts.py formats only new ones."""

    __slots__ = ("ring", "first")


class Window:
    """A ring's newest ``n`` points read where they sit, not copied into a list of tuples: a
    sparkline asks only for its ends, its largest value and the points it has not drawn yet
    (issue 19: building the list of 300 was 21 µs, the largest value of it 9 more, a dozen
    sparklines a tick). Indexing and slicing give (time, value) tuples as a list would; ``ring``
    and ``first`` are Points'. A point is overwritten only once its ring has taken ``length``
    newer ones, so a window read while the sampler appends still reads its own points."""

    __slots__ = ("_ring", "ring", "first", "n")

    def __init__(self, ring: Ring, n: int) -> None:
        self._ring, self.ring, self.n, self.first = ring, ring.serial, n, ring.count - n

    def __len__(self) -> int:
        return self.n

    def _spans(self, a: int, b: int) -> list[tuple[int, int]]:
        """Array index ranges of this window's points a..b-1 (one, or two across the wrap)."""
        length = len(self._ring.times)
        start = (self.first + a) % length
        end = start + (b - a)
        return [(start, end)] if end <= length else [(start, length), (0, end - length)]

    def __getitem__(self, key):
        if isinstance(key, slice):
            a, b, step = key.indices(self.n)
            if step != 1:
                return list(self)[key]
            out: list[tuple[float, float]] = []
            for i, j in self._spans(a, b) if b > a else ():
                out.extend(zip(self._ring.times[i:j], self._ring.values[i:j]))
            return out
        k = key + self.n if key < 0 else key
        if not 0 <= k < self.n:
            raise IndexError("window index out of range")
        i = (self.first + k) % len(self._ring.times)
        return self._ring.times[i], self._ring.values[i]

    def __iter__(self):
        return iter(self[:])

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, (list, Window)) else NotImplemented

    def max_value(self) -> float:
        values = self._ring.values
        return max(max(values[i:j]) for i, j in self._spans(0, self.n))


_ring_serials = itertools.count(1)


class Ring:
    """``length`` (time, value) points, oldest dropped first, in two arrays of doubles: 16 bytes
    a point where a deque of tuples of floats took about 100 (tracemalloc: 40 series of 900
    points, 0.6 MiB instead of 3.9; a small VM has 24 series, a host with units and disks more)."""

    __slots__ = ("times", "values", "start", "size", "serial", "count", "run_from")

    def __init__(self, length: int) -> None:
        self.times = array("d", bytes(8 * length))
        self.values = array("d", bytes(8 * length))
        self.start = 0  # index of the oldest point
        self.size = 0
        self.serial = next(_ring_serials)
        self.count = 0  # points ever appended; the k-th (from 0) sits at index k % length
        self.run_from = 0  # the first point (k) of the newest run in time order

    def append(self, t: float, v: float) -> None:
        length = len(self.times)
        i = (self.start + self.size) % length
        if self.size and t < self.times[(i - 1) % length]:  # the clock went back
            self.run_from = self.count
        self.times[i], self.values[i] = t, v
        self.count += 1
        if self.size < length:
            self.size += 1
        else:
            self.start = (self.start + 1) % length

    def last_time(self) -> float:
        return self.times[(self.start + self.size - 1) % len(self.times)]

    def points(self, last: int | None = None) -> Points:
        """Oldest first: all of them, or the ``last`` newest, as ``Points`` (where they sit)."""
        n = self.size if last is None else min(last, self.size)
        length = len(self.times)
        begin = (self.start + self.size - n) % length
        end = begin + n
        if end <= length:
            tail = Points(zip(self.times[begin:end], self.values[begin:end]))
        else:
            wrap = end - length
            tail = Points(zip(self.times[begin:], self.values[begin:]))
            tail.extend(zip(self.times[:wrap], self.values[:wrap]))
        tail.ring, tail.first = self.serial, self.count - n
        return tail

    def within(self, seconds: float) -> int:
        """How many of the newest points are less than ``seconds`` older than the newest: counted
        back to the first one that is not, so the answer is a tail even after the clock went back.
        Within the newest run in time order that is a bisection (a sparkline's 300 s of 1 s ticks
        were a 300-step walk, a dozen a tick, issue 19); only past its start is it walked."""
        times, length, newest = self.times, len(self.times), self.count - 1
        since = times[newest % length] - seconds
        if not self.size or times[newest % length] < since:
            return 0
        lo = low = max(self.count - self.size, self.run_from)  # the run's oldest point kept
        hi = newest  # it qualifies: find the first of lo..newest that does (they are in order)
        while lo < hi:
            mid = (lo + hi) // 2
            if times[mid % length] >= since:
                hi = mid
            else:
                lo = mid + 1
        n = newest - lo + 1
        if lo == low:  # the whole run qualifies: walk on past the clock's step back
            while n < self.size and times[(newest - n) % length] >= since:
                n += 1
        return n


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

    def seen(self) -> Snapshot | None:
        """``latest``, for a view: it also records that someone is looking (``watched``)."""
        self.seen_at = time.monotonic()
        return self.latest

    def watched(self, within: float) -> bool:
        """Whether a view asked for a snapshot in the last ``within`` seconds."""
        return time.monotonic() - self.seen_at < within
