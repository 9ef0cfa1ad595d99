"""Trends over a sliding time window: the least-squares slope of (time, value) readings.

Disks use it for each filesystem's fill rate and time to full (monitor/collectors/disks.py);
anything else that grows towards a limit (memory of a leaking service, a log directory) can too.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence


def slope(samples: Sequence[tuple[float, float]], min_span: float) -> float | None:
    """Units per second that the value grows by: least-squares slope of (time, value) samples.

    A fitted slope, not first-to-last, so one burst (a temporary file written and deleted) at the
    edge of the window does not swing the estimate. None until the samples span ``min_span`` s.

    >>> slope([(0.0, 1000.0), (60.0, 1600.0), (120.0, 2200.0)], min_span=60)
    10.0
    """
    if len(samples) < 2 or samples[-1][0] - samples[0][0] < min_span:
        return None
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mu = sum(u for _, u in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    if var <= 0:
        return None
    return sum((t - mt) * (u - mu) for t, u in samples) / var


def time_to_limit(room: float | None, rate: float | None) -> float | None:
    """Seconds until ``room`` is used up at ``rate`` per second; None when not growing."""
    if room is None or rate is None or rate <= 0:
        return None
    return room / rate


class Trends:
    """Per name, the (time, value) readings of the last ``window`` seconds and their slope."""

    def __init__(self, window: float, min_span: float) -> None:
        self.window, self.min_span = window, min_span
        self._points: dict[str, deque[tuple[float, float]]] = {}

    def add(self, now: float, values: Mapping[str, float],
            keep: Iterable[str] = ()) -> dict[str, float | None]:
        """Record this reading; name -> slope (None while measuring). Windows of names neither
        in ``values`` nor in ``keep`` (a filesystem that did not answer this time) are dropped."""
        rates: dict[str, float | None] = {}
        for name, value in values.items():
            points = self._points.setdefault(name, deque())
            points.append((now, float(value)))
            while points and points[0][0] < now - self.window:
                points.popleft()
            rates[name] = slope(list(points), self.min_span)
        for name in set(self._points) - set(values) - set(keep):
            del self._points[name]
        return rates
