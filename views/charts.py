"""Server-rendered inline SVG sparklines: no chart library, no script, numbers only in the markup.

A sparkline's path is drawn in its data's own units, x = seconds since ``origin()``, y = minus the
value (SVG's y grows downwards), and the ``viewBox`` picks the window: the last ``window``
seconds, from 0 to the top of the scale (``preserveAspectRatio="none"`` stretches it to the
card; ``vector-effect: non-scaling-stroke`` in app.css keeps the line's width). So a point's
text never changes once written, however the window slides or the scale changes, and it is
formatted once (``Paths``) rather than once per tick per viewer scope: the ten sparklines of a
dashboard were half the cost of rendering its cards (bench/perf_idle.py).
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from operator import itemgetter

from markupsafe import Markup, escape

from monitor.ring import Points, Window

ORIGIN_SPAN = 1e6  # s (11.6 days): x stays small enough for the browser's single-precision floats
_origin = [float(int(time.time()) // 3600 * 3600)]


class Paths:
    """Each drawn series' path, kept as its pieces (``"Lx,y "`` per point) and their lengths, keyed
    by the ring they came from (monitor/store.py ``Points``): a tick drops the pieces of the points
    that left the window and formats only the new ones, whoever draws it. A cache of every point's
    text held 0.45 MiB with a dashboard open (tracemalloc, issue 19); this holds one string per
    series (about 5 KiB for 300 points), and a drawing is a slice and a join."""

    WINDOW = 300.0  # s: the sparklines' window (partials/*.html draw ``points(name, 300)``)
    MAX = 256  # series kept; beyond, all are forgotten (a unit page per service, say)

    def __init__(self) -> None:
        # ring serial -> (first point's index, points, zero, pieces joined, each piece's length)
        self.drawn: dict[int, tuple[int, int, float, str, bytes]] = {}

    @staticmethod
    def pieces(points: Sequence[tuple[float, float]], zero: float) -> list[str]:
        return [f"L{t - zero:.1f},{-max(v, 0.0):.6g} " for t, v in points]

    def body(self, points: Points, zero: float) -> str:
        first, n = points.first, len(points)
        old = self.drawn.get(points.ring)
        if old is not None and old[2] == zero and old[0] <= first <= old[0] + old[1] <= first + n:
            o_first, o_n, _, text, lens = old
            drop = first - o_first
            new = self.pieces(points[o_first + o_n - first:], zero)
            text = text[sum(lens[:drop]):] + "".join(new)
            lens = lens[drop:] + bytes(len(p) for p in new)  # a piece is < 40 characters
        else:
            new = self.pieces(points, zero)
            text, lens = "".join(new), bytes(len(p) for p in new)
        if len(self.drawn) >= self.MAX and points.ring not in self.drawn:
            self.drawn.clear()
        # One assignment: a page rendered in a worker thread meanwhile sees the old or the new.
        self.drawn[points.ring] = (first, n, zero, text, lens)
        return text

    def clear(self) -> None:
        self.drawn.clear()


_paths = Paths()


def origin(now: float) -> float:
    """x's zero: an hour boundary, moved on (and every path redrawn) every 11 days."""
    if now - _origin[0] > ORIGIN_SPAN:
        _origin[0] = float(int(now) // 3600 * 3600)
        _paths.clear()
    return _origin[0]


def sparkline_path(points: Sequence[tuple[float, float]]) -> str:
    """SVG path data for (time, value) points in data units (see the module's docstring); a
    series' ``Points`` are drawn from its kept path, any other list is formatted whole."""
    if not points:
        return ""
    zero = origin(points[-1][0])
    if isinstance(points, (Points, Window)):
        body = _paths.body(points, zero)
    else:
        body = "".join(Paths.pieces(points, zero))
    return "M" + body[1:-1]  # "Lx0,y0 Lx1,y1 " -> "Mx0,y0 Lx1,y1"


def view_box(points: Sequence[tuple[float, float]], window: float, hi: float | None = 100.0) -> str:
    """The last ``window`` seconds, from 0 up to ``hi``; ``hi=None`` scales to the largest value
    (rates, load) with a little headroom. A fixed ``hi`` (100 for percent) keeps the picture
    honest when values are small; a young history grows in from the right edge."""
    end = points[-1][0]
    if hi is not None:
        top = hi
    else:  # a Window finds its largest value in its ring's array (monitor/store.py)
        largest = points.max_value() if isinstance(points, Window) else max(map(itemgetter(1), points))
        top = largest * 1.15 or 1.0
    return f"{end - window - origin(end):.1f} {-top:.6g} {window:g} {top:.6g}"


def sparkline(points: Sequence[tuple[float, float]], label: str, hi: float | None = 100.0,
              window: float = Paths.WINDOW) -> Markup:
    """An accessible inline SVG: the line, a filled area under it, and a text title."""
    if len(points) < 2:
        return Markup('<svg class="spark spark-empty" viewBox="0 0 300 48" role="img" '
                      'aria-label="collecting history"></svg>')
    d = sparkline_path(points)
    zero = origin(points[-1][0])
    area = f"{d} L{points[-1][0] - zero:.1f},0 L{points[0][0] - zero:.1f},0 Z"
    # The box and both paths are numbers, commas, spaces and the letters M, L, Z only (made
    # above); the label is escaped. Markup.format's escaping formatter was a third of the cost.
    label = escape(label)
    return Markup(
        f'<svg class="spark" viewBox="{view_box(points, window, hi)}" preserveAspectRatio="none" '
        f'role="img" aria-label="{label}"><title>{label}</title>'
        f'<path class="spark-area" d="{area}"/><path class="spark-line" d="{d}"/></svg>')
