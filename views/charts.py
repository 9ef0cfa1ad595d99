"""Server-rendered inline SVG sparklines: no chart library, no script, numbers only in the markup."""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup


def sparkline_path(points: Sequence[tuple[float, float]], window: float, width: float,
                   height: float, hi: float | None = 100.0) -> str:
    """SVG path data for (time, value) points over the last ``window`` seconds.

    x is time, so a young history grows in from the right edge instead of stretching. y grows
    downwards. ``hi=None`` scales to the largest value (rates, load) with a little headroom; a fixed
    ``hi`` (100 for percent) keeps the picture honest when values are small.
    """
    if not points:
        return ""
    end = points[-1][0]
    start = end - window
    values = [v for _, v in points]
    top = hi if hi is not None else (max(values) * 1.15 or 1.0)
    out = []
    for t, v in points:
        x = (t - start) / window * width if window > 0 else width
        y = height - min(max(v, 0.0), top) / top * height
        out.append(f"{max(0.0, x):.1f},{y:.1f}")
    return "M" + " L".join(out)


def sparkline(points: Sequence[tuple[float, float]], label: str, hi: float | None = 100.0,
              window: float = 300, width: int = 300, height: int = 48) -> Markup:
    """An accessible inline SVG: the line, a filled area under it, and a text title."""
    if len(points) < 2:
        return Markup('<svg class="spark spark-empty" viewBox="0 0 {w} {h}" role="img" '
                      'aria-label="collecting history"></svg>').format(w=width, h=height)
    d = sparkline_path(points, window, width, height, hi)
    first_x = d[1:].split(",", 1)[0]
    area = f"{d} L{width:.1f},{height} L{first_x},{height} Z"
    return Markup(
        '<svg class="spark" viewBox="0 0 {w} {h}" preserveAspectRatio="none" role="img" '
        'aria-label="{label}"><title>{label}</title>'
        '<path class="spark-area" d="{area}"/><path class="spark-line" d="{d}"/></svg>'
    ).format(w=width, h=height, label=label, area=area, d=d)
