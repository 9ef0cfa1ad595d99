"""Server-rendered SVG history charts: numbers and escaped labels only, no script, no framework.

One chart is one series over one range: a time axis and value gridlines with units, the min-max
band around the mean line (gaps stay gaps), the episodes of the series' area on a strip under the
plot (coloured by level; "host rebooted" as a line across), and one transparent column per point
whose <title> says time and value: the browser shows it on hover with JavaScript off, and
static/history.js uses the same columns for keyboard focus and the moment links.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from .format import human_bytes, human_count

W, H = 1000, 190
LEFT, RIGHT, TOP, BOTTOM = 70, 10, 10, 42
PLOT_W, PLOT_H = W - LEFT - RIGHT, H - TOP - BOTTOM
TICKS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400)
LEVELS = ("warning", "critical", "unknown")


def unit_of(name: str) -> str:
    """The unit a series is in, from its name (collectors' docstrings list them)."""
    if name.endswith("percent") or name.startswith("pressure.") or name.endswith("iowait"):
        return "%"
    if name.endswith("bytes_per_s") or name.endswith("_per_s") and "bytes" in name:
        return "B/s"
    if name.endswith("per_minute"):
        return "/min"
    if name == "sensors.hottest":
        return "°C"
    return ""


def fmt(v: float, unit: str) -> str:
    if unit == "%":
        return f"{v:.1f} %"
    if unit == "B/s":
        return human_bytes(v) + "/s"
    if unit == "°C":
        return f"{v:.1f} °C"
    text = human_count(v) if abs(v) >= 10 else f"{v:.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip() if unit != "/min" else f"{text}/min"


def local(t: float, tz: ZoneInfo | None, pattern: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
    """Epoch seconds as the operator's local time, with its zone."""
    return dt.datetime.fromtimestamp(t, tz or dt.datetime.now().astimezone().tzinfo).strftime(pattern)


def _nice_ceiling(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= v)


def chart(name: str, points: Sequence[tuple[float, float, float, float]], since: float,
          until: float, step: float, events: Sequence[dict] = (), tz: ZoneInfo | None = None,
          gap: float | None = None, label: str | None = None) -> Markup:
    """``points``: (t, mean, min, max), oldest first. ``gap``: a longer step between two points
    breaks the line and the band (default 2.5 steps)."""
    unit = unit_of(name)
    span = max(until - since, 1e-9)
    gap = gap or 2.5 * step
    top = max((p[3] for p in points), default=0.0)
    hi = 100.0 if unit == "%" and top <= 100 else _nice_ceiling(top * 1.05)

    def x(t: float) -> float:
        return LEFT + (t - since) / span * PLOT_W

    def y(v: float) -> float:
        return TOP + PLOT_H - max(0.0, min(v, hi)) / hi * PLOT_H

    out = [f'<svg class="hchart" viewBox="0 0 {W} {H}" role="img" tabindex="0" '
           f'data-since="{since:.0f}" data-until="{until:.0f}" data-step="{step:.0f}" aria-label="{escape(label or name)}">'
           f'<title>{escape(label or name)}, {escape(local(since, tz))} to {escape(local(until, tz))}</title>']
    out.append(_grid(hi, unit) + _time_axis(since, until, tz, x))
    segments: list[list[tuple[float, float, float, float]]] = []
    for p in points:
        if segments and p[0] - segments[-1][-1][0] <= gap:
            segments[-1].append(p)
        else:
            segments.append([p])
    for seg in segments:
        upper = " L".join(f"{x(t):.1f},{y(h):.1f}" for t, _, _, h in seg)
        lower = " L".join(f"{x(t):.1f},{y(lo):.1f}" for t, _, lo, _ in reversed(seg))
        out.append(f'<path class="hband" d="M{upper} L{lower} Z"/>')
        if len(seg) == 1:
            out.append(f'<circle class="hdot" cx="{x(seg[0][0]):.1f}" cy="{y(seg[0][1]):.1f}" r="2"/>')
        else:
            line = " L".join(f"{x(t):.1f},{y(m):.1f}" for t, m, _, _ in seg)
            out.append(f'<path class="hline" d="M{line}"/>')
    out.append(_events(events, since, until, tz, x))
    width = max(2.0, step / span * PLOT_W)
    for t, mean, lo, hi_v in points:
        text = f"{local(t, tz)}: {fmt(mean, unit)}"
        if hi_v > lo:
            text += f" (min {fmt(lo, unit)}, max {fmt(hi_v, unit)})"
        out.append(f'<rect class="hhit" x="{x(t) - width / 2:.1f}" y="{TOP}" width="{width:.1f}" '
                   f'height="{PLOT_H}" data-t="{t:.0f}" data-y="{y(mean):.1f}">'
                   f'<title>{escape(text)}</title></rect>')
    if not points:
        out.append(f'<text class="hempty" x="{LEFT + PLOT_W / 2}" y="{TOP + PLOT_H / 2}" '
                   'text-anchor="middle">no data recorded in this range</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _grid(hi: float, unit: str) -> str:
    parts = []
    for i in range(5):
        v = hi * i / 4
        yy = TOP + PLOT_H - PLOT_H * i / 4
        parts.append(f'<line class="hgrid" x1="{LEFT}" x2="{W - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}"/>'
                     f'<text class="hylabel" x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">'
                     f'{escape(fmt(v, unit))}</text>')
    return "".join(parts)


def _time_axis(since: float, until: float, tz: ZoneInfo | None, x) -> str:
    span = until - since
    every = next((s for s in TICKS if span / s <= 8), TICKS[-1] * math.ceil(span / TICKS[-1] / 8))
    zone = tz or dt.datetime.now().astimezone().tzinfo
    offset = dt.datetime.fromtimestamp(since, zone).utcoffset()
    off = offset.total_seconds() if offset else 0
    pattern = "%H:%M" if span <= 86400 else ("%a %H:%M" if span <= 3 * 86400 else "%a %d %b")
    first = math.ceil((since + off) / every) * every - off
    parts = [f'<line class="haxis" x1="{LEFT}" x2="{W - RIGHT}" y1="{TOP + PLOT_H}" y2="{TOP + PLOT_H}"/>']
    t = first
    while t <= until:
        xx = x(t)
        parts.append(f'<line class="hgrid hgrid-t" x1="{xx:.1f}" x2="{xx:.1f}" y1="{TOP}" y2="{TOP + PLOT_H}"/>'
                     f'<text class="htlabel" x="{xx:.1f}" y="{H - 6}" text-anchor="middle">'
                     f'{escape(local(t, tz, pattern))}</text>')
        t += every
    return "".join(parts)


def _events(events: Sequence[dict], since: float, until: float, tz: ZoneInfo | None, x) -> str:
    parts = []
    strip = TOP + PLOT_H + 3
    for e in events:
        start, end = e["start"], e["end"] if e.get("end") is not None else until
        if end < since or start > until:
            continue
        title = escape(f'{e["state"]}: {e.get("reason") or e["check"]} '
                       f'({local(start, tz)} – {local(end, tz) if e.get("end") is not None else "still open"})')
        if e["check"] == "system_reboot":
            parts.append(f'<line class="ev-reboot" x1="{x(start):.1f}" x2="{x(start):.1f}" y1="{TOP}" '
                         f'y2="{strip + 8}"><title>{title}</title></line>')
            continue
        level = e["state"] if e["state"] in LEVELS else "unknown"
        x0, x1 = x(max(start, since)), x(min(end, until))
        parts.append(f'<rect class="ev ev-{level}" x="{x0:.1f}" y="{strip}" width="{max(2.0, x1 - x0):.1f}" '
                     f'height="8"><title>{title}</title></rect>')
    return "".join(parts)
