"""Human units at the edge: Jinja filters that turn raw numbers into "3.2 GiB" at render time."""
from __future__ import annotations

import math
import time
from datetime import datetime, timezone

from markupsafe import Markup

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def human_bytes(n: float | None, digits: int = 1) -> str:
    """Binary units, one decimal; None (or NaN) is a dash.

    >>> human_bytes(812), human_bytes(3.2 * 2**30), human_bytes(-1536), human_bytes(None)
    ('812 B', '3.2 GiB', '-1.5 KiB', '–')
    """
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "–"
    n = float(n)
    sign = "-" if n < 0 else ""
    n = abs(n)
    i = 0
    while n >= 1024 and i < len(_UNITS) - 1:
        n /= 1024
        i += 1
    if i == 0:
        return f"{sign}{n:.0f} B"
    return f"{sign}{n:.{digits}f} {_UNITS[i]}"


def human_rate(n: float | None) -> str:
    """
    >>> human_rate(1048576)
    '1.0 MiB/s'
    """
    return "–" if n is None else human_bytes(n) + "/s"


def human_count(n: float | None) -> str:
    """812 -> "812", 12345 -> "12.3k", 4.2e6 -> "4.2M".

    >>> human_count(812), human_count(12345), human_count(4.2e6), human_count(0.5)
    ('812', '12.3k', '4.2M', '0.5')
    """
    if n is None:
        return "–"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.1f}{suffix}"
    return f"{n:.0f}" if float(n).is_integer() or abs(n) >= 10 else f"{n:.1f}"


def human_duration(seconds: float | None) -> str:
    """90061 -> "1 d 1 h", 3725 -> "1 h 2 min", 42 -> "42 s".

    >>> human_duration(90061), human_duration(3725), human_duration(42), human_duration(125)
    ('1 d 1 h', '1 h 2 min', '42 s', '2 min 5 s')
    """
    if seconds is None:
        return "–"
    s = int(max(0, seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    if d:
        return f"{d} d {h} h"
    if h:
        return f"{h} h {m} min"
    if m:
        return f"{m} min {sec} s" if m < 10 else f"{m} min"
    return f"{sec} s"


def percent(v: float | None, digits: int = 0) -> str:
    """
    >>> percent(93.4), percent(93.45, 1), percent(None)
    ('93 %', '93.5 %', '–')
    """
    return "–" if v is None else f"{v:.{digits}f} %"


def clock(epoch: float | None) -> str:
    """Local time of day, or the date when it is not today."""
    if epoch is None:
        return "–"
    lt = time.localtime(epoch)
    if time.strftime("%Y-%m-%d", lt) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M:%S", lt)
    return time.strftime("%Y-%m-%d %H:%M", lt)


def clock_html(epoch: float | None) -> Markup | str:
    """``{{ t|clock }}`` in a page: the server's local time with its zone inside a ``<time>``
    whose ``datetime`` is UTC, so static/app.js can show it in the operator's own zone.

    >>> clock_html(0.0).startswith('<time datetime="1970-01-01T00:00:00+00:00" data-local>')
    True
    """
    if epoch is None:
        return "–"
    iso = datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")
    zone = time.strftime("%Z", time.localtime(epoch))
    return Markup('<time datetime="%s" data-local>%s %s</time>') % (iso, clock(epoch), zone)


def level(v: float | None, steps: int = 10) -> int:
    """0..steps bucket of a 0..100 percentage: a CSS class picks the colour (no inline style).

    >>> level(0), level(47), level(100), level(130), level(None)
    (0, 5, 10, 10, 0)
    """
    if v is None:
        return 0
    return max(0, min(steps, int(round(v / 100 * steps))))


FILTERS = {
    "bytes": human_bytes,
    "rate": human_rate,
    "count": human_count,
    "duration": human_duration,
    "pct": percent,
    "clock": clock_html,
    "level": level,
}
