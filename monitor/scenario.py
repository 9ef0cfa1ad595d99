"""The scenario file format (tests/scenarios/*.toml): a readable TOML file with series in and the
expected verdict timeline out; ``load(path)`` parses it into a ``Scenario``. The format is
described in monitor/replay.py, which replays it through the real Judge; the scoring of a
replay against the expected timeline (``diff``, false and missed alarms) is at the end.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
         "kB": 1e3, "MB": 1e6, "GB": 1e9, "%": 1, "s": 1}
BLOCK = 4096


@dataclass(frozen=True)
class Change:
    """One state change: at ``time`` (a..b for an expectation), ``key`` became ``state``."""
    time: float
    key: str
    state: str
    until: float | None = None  # an expectation "a..b": any time from ``time`` to ``until``

    def matches(self, other: Change) -> bool:
        hi = self.time if self.until is None else self.until
        return self.key == other.key and self.state == other.state and self.time <= other.time <= hi

    def __str__(self) -> str:
        t = f"{self.time:g}" if self.until is None else f"{self.time:g}..{self.until:g}"
        return f"{t} {self.key} {self.state}"


@dataclass
class Scenario:
    name: str
    title: str
    tick: float
    end: float
    series: dict[str, list[tuple[float, float]]]
    filesystems: dict[str, dict[str, Any]] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    restart_at: list[float] = field(default_factory=list)
    expect: list[Change] = field(default_factory=list)
    expect_events: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


def number(text: str) -> float:
    m = re.fullmatch(r"\s*(-?[0-9.]+(?:e-?\d+)?)\s*([A-Za-z%]*)\s*", text)
    if not m:
        raise ValueError(f"not a number: {text!r}")
    return float(m.group(1)) * UNITS.get(m.group(2) or "B", 1)


def parse_series(text: str, tick: float) -> list[tuple[float, float]]:
    """ "t v [v ...]" lines -> (time, value) points; extra values are the following ticks."""
    out: list[tuple[float, float]] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        t, *vals = line.split()
        # A value with a unit is "2 GiB": join a number with the unit word after it.
        joined: list[str] = []
        for v in vals:
            if joined and not re.match(r"-?[0-9.]", v):
                joined[-1] += v
            else:
                joined.append(v)
        for i, v in enumerate(joined):
            out.append((float(t) + i * tick, number(v)))
    return out


def value_at(points: list[tuple[float, float]], t: float) -> float | None:
    """Linear between points; the last of several points at one time wins from then on."""
    if not points or t < points[0][0]:
        return None
    prev = points[0]
    for p in points:
        if p[0] > t:
            if p[0] == prev[0]:
                return prev[1]
            return prev[1] + (p[1] - prev[1]) * (t - prev[0]) / (p[0] - prev[0])
        prev = p
    return prev[1]


def parse_timeline(text: str) -> list[Change]:
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        t, key, state = line.split()
        lo, _, hi = t.partition("..")
        out.append(Change(float(lo), key, state, float(hi) if hi else None))
    return out


def load(path: Path) -> Scenario:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    tick = float(data.get("tick", 10))
    expect = data.get("expect", {})
    return Scenario(
        name=path.stem, title=data.get("title", path.stem), tick=tick, end=float(data["end"]),
        series={k: parse_series(v, tick) for k, v in data.get("series", {}).items()},
        filesystems=data.get("filesystems", {}), thresholds=data.get("thresholds", {}),
        restart_at=[float(t) for t in data.get("restart_at", [])],
        expect=parse_timeline(expect.get("timeline", "")),
        expect_events=list(expect.get("events", [])), raw=data)


# ---- scoring a replay (monitor/replay.py) against the expected timeline ------------------

def episodes(changes: Iterable[Change]) -> dict[str, list[tuple[float, float | None]]]:
    """key -> the (start, end) of each run away from ok (end None: still away at the end)."""
    out: dict[str, list[tuple[float, float | None]]] = {}
    for c in changes:
        runs = out.setdefault(c.key, [])
        if c.state == "ok":
            if runs and runs[-1][1] is None:
                runs[-1] = (runs[-1][0], c.time)
        elif not runs or runs[-1][1] is not None:
            runs.append((c.time, None))
    return out


def false_alarms(expected: list[Change], actual: list[Change]) -> int:
    """Episodes the replay raised that overlap no expected episode of the same check and subject
    (an expected range start counts from its earliest time)."""
    exp = episodes(expected)
    n = 0
    for key, runs in episodes(actual).items():
        for start, end in runs:
            hit = any(s <= (end if end is not None else float("inf"))
                      and start <= (e if e is not None else float("inf")) for s, e in exp.get(key, []))
            n += not hit
    return n


def missed_alarms(expected: list[Change], actual: list[Change]) -> int:
    """Expected episodes the replay did not raise at all (overlap, as in ``false_alarms``)."""
    return false_alarms(actual, expected)


def diff(expected: list[Change], actual: list[Change]) -> list[str]:
    """Lines saying what differs; empty when every change matches, in order."""
    out = []
    for i in range(max(len(expected), len(actual))):
        e = expected[i] if i < len(expected) else None
        a = actual[i] if i < len(actual) else None
        if e is None or a is None or not e.matches(a):
            out.append(f"expected {e or '-'}   got {a or '-'}")
    return out
