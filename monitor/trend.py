"""Trends over a sliding time window: the least-squares slope of (time, value) readings, and a
robust "is it really rising" rate for claims about the future (time to full).

Disks use it for each filesystem's fill rate and time to full (monitor/collectors/disks.py);
anything else that grows towards a limit (memory of a leaking service, a log directory) can too.

A step is not a trend: ``rising_rate`` gives a rate only when most consecutive readings rose
(RISING_SHARE), the value rose over the last ``min_span`` seconds too (a fill that stopped stops
the estimate), the samples span ``min_span`` and the Theil-Sen slope (median of pairwise slopes,
which one burst cannot swing) is positive. A fall restarts the evidence (``since_last_fall``): a
deletion or a log rotation means the rise before it says nothing about the future, so a sawtooth
is measured one tooth at a time. ``time_to_limit`` with ``over`` refuses a horizon longer than
HORIZON times the span it was measured over: Prometheus' node-mixin predicts 24 h from 6 h.

>>> step = [(float(t), 100.0 if t < 10 else 30e6) for t in range(0, 600, 2)]
>>> rising_rate(step, 60) is None  # one 30 MB write, then idle
True
>>> fill = [(float(t), 1000.0 * t) for t in range(0, 600, 2)]
>>> rising_rate(fill, 60)
1000.0
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


RISING_SHARE = 0.6  # of consecutive deltas that must be rises for a trend to be "real"
HORIZON = 4.0  # the longest claim, in multiples of the span measured over (1 h -> 4 h, 6 h -> 1 day)
FALL_SHARE = 0.25  # a drop of this share of the window's range restarts the evidence
MAX_PAIRS_POINTS = 60  # Theil-Sen over at most this many evenly picked samples (O(n^2) pairs)


def theil_sen(samples: Sequence[tuple[float, float]]) -> float | None:
    """The median of the pairwise slopes (Theil-Sen): robust to a minority of outliers/steps.

    >>> theil_sen([(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0), (4.0, 100.0)])
    1.0
    """
    if len(samples) > MAX_PAIRS_POINTS:
        step = (len(samples) - 1) / (MAX_PAIRS_POINTS - 1)
        samples = [samples[round(i * step)] for i in range(MAX_PAIRS_POINTS)]
    slopes = sorted((u2 - u1) / (t2 - t1) for i, (t1, u1) in enumerate(samples)
                    for t2, u2 in samples[i + 1:] if t2 > t1)
    if not slopes:
        return None
    n = len(slopes)
    return slopes[n // 2] if n % 2 else (slopes[n // 2 - 1] + slopes[n // 2]) / 2


def since_last_fall(samples: Sequence[tuple[float, float]],
                    share: float = FALL_SHARE) -> Sequence[tuple[float, float]]:
    """The samples after the last fall bigger than ``share`` of their range (max - min): jitter
    of a few temporary files stays inside one run, a deletion or a rotation starts a new one.

    >>> since_last_fall([(0.0, 1.0), (1.0, 5.0), (2.0, 1.0), (3.0, 2.0), (4.0, 1.9), (5.0, 3.0)])
    [(2.0, 1.0), (3.0, 2.0), (4.0, 1.9), (5.0, 3.0)]
    """
    if len(samples) < 2:
        return samples
    values = [u for _, u in samples]
    big = share * (max(values) - min(values))
    for i in range(len(samples) - 1, 0, -1):
        if values[i - 1] - values[i] > big > 0:
            return samples[i:]
    return samples


def rising_rate(samples: Sequence[tuple[float, float]], min_span: float,
                share: float = RISING_SHARE) -> float | None:
    """Units per second of a sustained rise, or None: too short a span, flat, falling, a single
    step (most deltas not rises), or not rising over the last ``min_span`` seconds."""
    if len(samples) < 3 or samples[-1][0] - samples[0][0] < min_span:
        return None
    deltas = [b[1] - a[1] for a, b in zip(samples, samples[1:])]
    if sum(1 for d in deltas if d > 0) < share * len(deltas):
        return None
    last_t, last_u = samples[-1]
    before = [u for t, u in samples if t <= last_t - min_span]
    if not before or last_u <= before[-1]:
        return None
    rate = theil_sen(samples)
    return rate if rate is not None and rate > 0 else None


def time_to_limit(room: float | None, rate: float | None, over: float | None = None,
                  horizon: float = HORIZON) -> float | None:
    """Seconds until ``room`` is used up at ``rate`` per second; None when not growing, or when
    the claim is longer than ``horizon`` times ``over`` (the span the rate was measured over)."""
    if room is None or rate is None or rate <= 0:
        return None
    eta = room / rate
    if over is not None and eta > horizon * over:
        return None
    return eta


class Trends:
    """Per name, the (time, value) readings of the last ``window`` seconds, at most one per
    ``step`` seconds (the newest always kept), their slope over the last ``rate_window`` seconds
    and the rate of a sustained rise since the last fall."""

    def __init__(self, window: float, min_span: float, step: float = 0.0,
                 rate_window: float | None = None) -> None:
        self.window, self.min_span, self.step = window, min_span, step
        self.rate_window = window if rate_window is None else rate_window
        self._points: dict[str, deque[tuple[float, float]]] = {}
        # name -> (rising rate, seconds it was measured over), only for names really rising
        self.rising: dict[str, tuple[float, float]] = {}

    def add(self, now: float, values: Mapping[str, float],
            keep: Iterable[str] = ()) -> dict[str, float | None]:
        """Record this reading; name -> slope (None while measuring). Windows of names neither
        in ``values`` nor in ``keep`` (a filesystem that did not answer this time) are dropped."""
        rates: dict[str, float | None] = {}
        for name, value in values.items():
            points = self._points.setdefault(name, deque())
            if len(points) >= 2 and points[-1][0] - points[-2][0] < self.step:
                points[-1] = (now, float(value))  # inside the last step: the newest reading wins
            else:
                points.append((now, float(value)))
            while points and points[0][0] < now - self.window:
                points.popleft()
            pts = list(points)
            rates[name] = slope([p for p in pts if p[0] >= now - self.rate_window], self.min_span)
            run = since_last_fall(pts)
            up = rising_rate(run, self.min_span)
            if up is None:
                self.rising.pop(name, None)
            else:
                self.rising[name] = (up, run[-1][0] - run[0][0])
        for name in set(self._points) - set(values) - set(keep):
            del self._points[name]
            self.rising.pop(name, None)
        return rates
