"""The history's ring buffers (monitor/store.py ``History`` keeps one per series) and the two
ways a series is read out of one: ``Points``, a copied list of (time, value), and ``Window``, the
same points read where they sit (the cards' sparklines, views/charts.py).
"""
from __future__ import annotations

import itertools
from array import array


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
