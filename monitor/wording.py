"""Numbers in the words of a verdict's reason (monitor/measures.py) and of the levels the pages show.

>>> about(7300), fmt(93.44, "%"), fmt(0.5, "/s"), fmt(0.012, "%"), gib(3 * 2**29), gib(5 * 2**20)
('about 2 h', '93.4 %', '0.5/s', '0.012 %', '1.5 GiB', '5 MiB')
"""
from __future__ import annotations


def pct(v: float) -> str:
    """93 -> "93 %", 93.44 -> "93.4 %", 0.012 -> "0.012 %": no level is rounded across itself."""
    if v == int(v):
        return f"{v:.0f} %"
    return f"{v:.1f} %" if abs(v) >= 1 else f"{v:.2g} %"


def about(seconds: float) -> str:
    """3 h 20 min -> "about 3 h"; used in reasons ("full in about 2 h")."""
    s = max(0.0, seconds)
    for div, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if s >= div:
            return f"about {s / div:.0f} {unit}"
    return f"about {s:.0f} s"


def fmt(value: float, unit: str) -> str:
    if unit == "%":
        return pct(value)
    if unit == "s":
        return about(value).removeprefix("about ")
    if unit == "°C":
        return f"{value:.0f} °C"
    if unit in ("/s", "/min"):
        return f"{value:.3g}{unit}"
    return f"{value:.2f}" if value != int(value) else f"{value:.0f}"


def gib(n: int) -> str:
    """A size as the reasons say it: GiB from one GiB up, else MiB."""
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"
