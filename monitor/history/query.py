"""Range queries over history: Prometheus range-query semantics over the ring or the rollups.

    since, until   RFC 3339 (``2026-12-01T03:12:00Z``), epoch seconds, ``now`` or ``15m`` (ago)
    step           seconds (``15``, ``0.5``) or a duration (``1m``, ``2h``, ``1d``)

Evaluation times are ``since + k*step`` up to ``until`` (as Prometheus); each carries the mean,
min and max of the samples in ``(t - step, t]``, and no point where there is none (a gap stays a
gap). Wrong ranges are ``RangeError`` with the reason (a 422): until before since, a step <= 0,
more than ``MAX_POINTS`` points (Prometheus's 11,000), times outside 1970 … a year from now.

Where the points come from: a range that starts inside what the in-memory ring keeps is answered
from the ring alone (every tick); any older start reads the per-minute rollups, and the minutes
not written yet (the one in progress) come from the ring, merged into the same buckets.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from ..logs.filters import FilterError, parse_time
from ..store import History
from .db import HistoryDB

MAX_POINTS = 11_000
RING, ROLLUPS = "ring", "rollups"
_DURATION = re.compile(r"^(\d{1,9}(?:\.\d{1,6})?)(ms|s|m|h|d|w)?$")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


class RangeError(ValueError):
    """A range that cannot be answered; the message says why (it becomes the 422's detail)."""


@dataclass(frozen=True)
class Range:
    since: float
    until: float
    step: float


def parse_step(value: str) -> float:
    """
    >>> parse_step("15"), parse_step("1m"), parse_step("0.5"), parse_step("2h")
    (15.0, 60.0, 0.5, 7200.0)
    """
    m = _DURATION.match(value.strip())
    if not m:
        raise RangeError(f"step: {value[:40]!r} is not a duration; use seconds (15) or 1m, 1h, 1d")
    step = float(m.group(1)) * _UNIT[m.group(2)]
    if step <= 0:
        raise RangeError("step: zero or negative query resolution step widths are not accepted")
    return step


def parse_range(since: str | None, until: str | None, step: str | None,
                now: float | None = None, default_points: int = 240) -> Range:
    """The checked range; ``since`` defaults to an hour before ``until``, ``until`` to now, and
    ``step`` to about ``default_points`` points."""
    now = time.time() if now is None else now
    try:
        t1 = parse_time(until, "until", now) if until else now
        t0 = parse_time(since, "since", now) if since else t1 - 3600
    except FilterError as exc:
        raise RangeError(str(exc)) from None
    if t1 < t0:
        raise RangeError("until: end timestamp must not be before since (start)")
    s = parse_step(step) if step else nice_step((t1 - t0) / default_points)
    if s >= 1:  # whole seconds: the evaluation times line up with the minutes
        t0 = math.floor(t0)
    if (t1 - t0) / s + 1 > MAX_POINTS:
        raise RangeError(f"step: {s:g} s gives {int((t1 - t0) / s) + 1} points, more than "
                         f"{MAX_POINTS}; choose a larger step")
    return Range(t0, t1, s)


NICE = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def nice_step(seconds: float) -> float:
    """The first of NICE at least ``seconds`` (a whole day beyond)."""
    return float(next((n for n in NICE if n >= seconds), math.ceil(seconds / 86400) * 86400))


def source_for(rng: Range, ring_seconds: float, now: float) -> str:
    return RING if rng.since >= now - ring_seconds else ROLLUPS


def buckets(history: History, db: HistoryDB | None, name: str, rng: Range, ring_seconds: float,
            now: float | None = None) -> tuple[str, list[tuple[float, float, float, float]]]:
    """(source, [(t, mean, min, max), ...]) for one series over ``rng``."""
    now = time.time() if now is None else now
    source = source_for(rng, ring_seconds, now)
    ring = history.points(name)
    if source == RING or db is None or not db.ready:
        return source, _finish(_ring_buckets(ring, rng, -math.inf))
    step = max(1, int(round(rng.step)))
    since = math.floor(rng.since)
    rows = db.buckets(name, since, rng.until, step)
    last = db.last_minute()
    tail_from = (last + 1) * 60 if last is not None else -math.inf
    merged = {t: [mean * n, lo, hi, n] for t, mean, lo, hi, n in rows}
    for t, (s, lo, hi, n) in _ring_buckets(ring, Range(since, rng.until, step), tail_from).items():
        old = merged.get(t)
        merged[t] = [s, lo, hi, n] if old is None else [old[0] + s, min(old[1], lo),
                                                        max(old[2], hi), old[3] + n]
    return source, _finish(merged)


def _ring_buckets(points, rng: Range, after: float) -> dict[float, list]:
    out: dict[float, list] = {}
    lo_t = rng.since - rng.step
    for t, v in points:
        if t <= lo_t or t > rng.until or t < after:
            continue
        k = max(0, math.ceil((t - rng.since) / rng.step - 1e-9))
        at = rng.since + k * rng.step
        if at > rng.until:
            continue
        b = out.get(at)
        if b is None:
            out[at] = [v, v, v, 1]
        else:
            b[0] += v
            b[1] = min(b[1], v)
            b[2] = max(b[2], v)
            b[3] += 1
    return out


def _finish(merged: dict[float, list]) -> list[tuple[float, float, float, float]]:
    return [(t, s / n, lo, hi) for t, (s, lo, hi, n) in sorted(merged.items()) if n]
