"""Server-rendered inline SVG sparklines: no chart library, no script, numbers only in the markup.

A sparkline's path is drawn in its data's own units, x = seconds since ``origin()``, y = minus the
value (SVG's y grows downwards), and the ``viewBox`` picks the window: the last ``window``
seconds, from 0 to the top of the scale (``preserveAspectRatio="none"`` stretches it to the
card; ``vector-effect: non-scaling-stroke`` in app.css keeps the line's width). So a point's
text never changes once written, however the window slides or the scale changes, and it is
formatted once (``PointTexts``) rather than once per tick per viewer scope: the ten sparklines of a
dashboard were half the cost of rendering its cards (bench/perf_idle.py).
"""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence

from markupsafe import Markup, escape

ORIGIN_SPAN = 1e6  # s (11.6 days): x stays small enough for the browser's single-precision floats
_origin = [float(int(time.time()) // 3600 * 3600)]


class PointTexts:
    """Formatted points, kept while a sparkline still draws them: every sparkline shows the
    last ``WINDOW`` seconds, so a point older than that is dropped (oldest first: points are
    added as they arrive, so the oldest are at the front). One cache for every point grew by
    each new one (ten sparklines at a 1 s tick: 600 points, 0.1 MiB, a minute) up to 50,000."""

    WINDOW = 300.0  # s: the sparklines' window (partials/*.html draw ``points(name, 300)``)
    MAX = 50_000  # a bound whatever the clock does (ten series of 300 points use 3,000)

    def __init__(self) -> None:
        self.texts: OrderedDict[tuple[float, float], str] = OrderedDict()

    def text(self, t: float, v: float, zero: float) -> str:
        key = (t, v)
        text = self.texts.get(key)
        if text is None:
            if len(self.texts) >= self.MAX:
                self.texts.clear()
            text = self.texts[key] = self.format(t, v, zero)
        return text

    @staticmethod
    def format(t: float, v: float, zero: float) -> str:
        return f"{t - zero:.1f},{-max(v, 0.0):.6g}"

    def drop_before(self, t: float) -> None:
        """Forget the points before ``t`` (a clock set back leaves them to ``MAX``)."""
        texts = self.texts
        while texts and next(iter(texts))[0] < t:
            texts.popitem(last=False)

    def clear(self) -> None:
        self.texts.clear()


_texts = PointTexts()


def origin(now: float) -> float:
    """x's zero: an hour boundary, moved on (and the formatted points forgotten) every 11 days."""
    if now - _origin[0] > ORIGIN_SPAN:
        _origin[0] = float(int(now) // 3600 * 3600)
        _texts.clear()
    return _origin[0]


def sparkline_path(points: Sequence[tuple[float, float]]) -> str:
    """SVG path data for (time, value) points in data units (see the module's docstring)."""
    if not points:
        return ""
    zero = origin(points[-1][0])
    _texts.drop_before(points[-1][0] - PointTexts.WINDOW)
    text = _texts.text
    return "M" + " L".join([text(t, v, zero) for t, v in points])


def view_box(points: Sequence[tuple[float, float]], window: float, hi: float | None = 100.0) -> str:
    """The last ``window`` seconds, from 0 up to ``hi``; ``hi=None`` scales to the largest value
    (rates, load) with a little headroom. A fixed ``hi`` (100 for percent) keeps the picture
    honest when values are small; a young history grows in from the right edge."""
    end = points[-1][0]
    top = hi if hi is not None else (max(v for _, v in points) * 1.15 or 1.0)
    return f"{end - window - origin(end):.1f} {-top:.6g} {window:g} {top:.6g}"


def sparkline(points: Sequence[tuple[float, float]], label: str, hi: float | None = 100.0,
              window: float = PointTexts.WINDOW) -> Markup:
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
