"""History JSON: the ring buffers behind every sparkline, as (time, value) pairs.

    $ curl -s '127.0.0.1:8000/api/history'
    {"seq": 42, "taken_at": 1795693001.2, "seconds": 900,
     "metrics": ["cpu.load1", "cpu.percent", "disks./.percent", "network.bytes_recv_per_s", ...]}
    $ curl -s '127.0.0.1:8000/api/history/cpu.percent?seconds=3'
    {"seq": 42, "taken_at": 1795693001.2, "metric": "cpu.percent", "seconds": 3,
     "points": [[1795692998.2, 2.2], [1795692999.2, 3.1], [1795693000.2, 2.0], [1795693001.2, 4.5]]}

    $ curl -s '127.0.0.1:8000/api/history/cpu.percent?since=2026-12-01T03:00:00Z&until=2026-12-01T04:00:00Z&step=1m'
    {"metric": "cpu.percent", "source": "rollups", "since": ..., "until": ..., "step": 60.0,
     "points": [[1795662060.0, 12.5], ...], "bands": [[1795662060.0, 3.0, 41.0], ...]}
    $ curl -s -H "Authorization: Bearer $TOKEN" '127.0.0.1:8000/api/history/at/2026-12-01T03:12:00Z'

Metric names are the collectors' ``series()`` keys (documented in each collector's docstring);
some contain "/" (``disks./var.percent``), so the route takes the rest of the path as the name.
``?seconds=N`` answers from the in-memory ring, made once per snapshot and window like every
other /api answer; ``?since=&until=&step=`` has Prometheus range-query semantics over the ring
or the per-minute rollups (monitor/history/query.py). ``/api/history/at/{t}`` is a moment
(monitor/history/moment.py): full scope only, it carries command lines and log lines.
"""
from __future__ import annotations

import time
from typing import Annotated

from annotated_types import Le
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from monitor.history.db import HistoryDB, HistoryUnavailable
from monitor.history.moment import Moment, moment
from monitor.history.query import MAX_POINTS, RangeError, buckets, parse_range
from monitor.logs.filters import FilterError, parse_time
from monitor.settings import Settings

from .api import ErrorMessage, Stamp
from .deps import EventsDep, SettingsDep, SnapshotDep, StoreDep

router = APIRouter(prefix="/api/history", tags=["history"])
DEFAULT_SECONDS = 300  # the sparklines' window
# The schema's bound is the most history any console may keep (SERVER_MONITOR_HISTORY_SECONDS's
# own maximum); what this console keeps is checked per request, a 422 that names it.
SECONDS_CAP = next(m.le for m in Settings.model_fields["history_seconds"].metadata if isinstance(m, Le))
NOT_YET = {503: {"model": ErrorMessage, "description": "no sample taken yet (just started; Retry-After)"}}


class Metrics(Stamp):
    seconds: int = Field(description="how many seconds of history are kept per metric")
    metrics: list[str] = Field(description="names accepted by /api/history/{metric}")
    stored: list[str] = Field(default_factory=list, description="names with per-minute rollups "
                              "in the history database (since/until beyond the ring)")
    keep_days: int = Field(0, description="days of per-minute rollups kept")
    series_max: int = Field(0, description="the most series the database stores (a setting)")
    series_dropped: list[str] = Field(default_factory=list, description="series not stored "
                                      "because series_max was reached (at most 100 listed)")
    database: str | None = Field(None, description="why the history database is not in use; null when it is")


class RangeSeries(BaseModel):
    metric: str
    source: str = Field(description="ring (every tick, the last SERVER_MONITOR_HISTORY_SECONDS) "
                                    "or rollups (per-minute min/mean/max in the database)")
    since: float
    until: float
    step: float = Field(description="seconds between two evaluation times since + k*step")
    points: list[tuple[float, float]] = Field(description="[t, mean of (t - step, t]]; no point "
                                              "where nothing was recorded")
    bands: list[tuple[float, float, float]] = Field(description="[t, min, max] of the same buckets")


def history_db(request: Request) -> HistoryDB | None:
    return getattr(request.app.state, "history", None)


def db_note(db: HistoryDB | None) -> str | None:
    if db is None:
        return "no history database configured"
    if not db.ready:
        return db.error or "the history database is still opening"
    return None


class Series(Stamp):
    metric: str
    seconds: int = Field(description="the window asked for, ending at the newest point")
    points: list[tuple[float, float]] = Field(
        description="[taken_at, value] pairs, oldest first; taken_at in seconds since the epoch")


@router.get("", response_model=Metrics, responses=NOT_YET, summary="Names of the metrics that keep history")
def metrics(request: Request, snap: SnapshotDep, store: StoreDep, settings: SettingsDep):
    db = history_db(request)

    def make() -> bytes:
        try:
            stored = db.names() if db is not None else []
        except HistoryUnavailable:
            stored = []
        return Metrics(seq=snap.seq, taken_at=snap.taken_at, seconds=settings.history_seconds,
                       metrics=sorted(set(store.history.names()) | set(stored)), stored=stored,
                       keep_days=settings.history_keep_days, series_max=settings.history_series_max,
                       series_dropped=db.dropped_names(100) if db is not None else [],
                       database=db_note(db)).model_dump_json().encode()
    return Response(snap.memo("json:history", make), media_type="application/json")


@router.get("/at/{t}", response_model=Moment, summary="What was happening at one minute (full scope)",
            responses={422: {"model": ErrorMessage, "description": "t is not a time, or out of range"},
                       503: {"model": ErrorMessage, "description": "the history database is not open"}})
def at(t: str, request: Request, events: EventsDep):
    """Verdicts and open events then, the top processes of that minute, error lines within
    +-2 min and what changed in the minutes before. ``t``: RFC 3339, epoch seconds or 15m (ago)."""
    when = parse_moment(t)
    db = history_db(request)
    if db is None or not db.ready:
        raise HTTPException(503, db_note(db) or "", headers={"Retry-After": "5"})
    try:
        return moment(db, events, when)
    except HistoryUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None


def parse_moment(t: str) -> float:
    if len(t) > 64:
        raise HTTPException(422, "t: too long to be a time")
    try:
        when = parse_time(t, "t")
    except FilterError as exc:
        raise HTTPException(422, str(exc)) from None
    if when > time.time() + 60:
        raise HTTPException(422, "t: that time is in the future; nothing is recorded yet")
    return when


TIME = "RFC 3339 (2026-12-01T03:12:00Z), epoch seconds, now, or 15m / 2h / 1d ago"


@router.get("/{metric:path}", response_model=Series | RangeSeries,
            summary="One metric: the last N seconds (ring), or since/until/step (ring or rollups)",
            responses={404: {"model": ErrorMessage, "description": "no such metric"},
                       422: {"model": ErrorMessage, "description": "seconds out of range, or a bad "
                             "range (until before since, step <= 0, more than "
                             f"{MAX_POINTS} points, a time that is not one)"}, **NOT_YET})
def series(metric: str, request: Request, snap: SnapshotDep, store: StoreDep, settings: SettingsDep,
           seconds: Annotated[int | None, Query(
               ge=1, le=SECONDS_CAP, description="window length in seconds, at most the history kept "
               "(SERVER_MONITOR_HISTORY_SECONDS); default 300 or all that is kept")] = None,
           since: Annotated[str | None, Query(max_length=64, description="start: " + TIME)] = None,
           until: Annotated[str | None, Query(max_length=64, description="end (default now): " + TIME)] = None,
           step: Annotated[str | None, Query(max_length=16, description="seconds (15) or 1m, 1h; "
                                             "default about 240 points")] = None):
    if since is not None or until is not None or step is not None:
        if seconds is not None:
            raise HTTPException(422, "seconds: give either seconds or since/until/step, not both")
        return range_series(request, metric, store, settings, since, until, step)
    if seconds is None:
        seconds = min(DEFAULT_SECONDS, settings.history_seconds)
    elif seconds > settings.history_seconds:
        raise HTTPException(422, f"seconds: at most {settings.history_seconds} "
                                 "(the history this console keeps)")
    if metric not in store.history.names():
        raise HTTPException(404, f"no history for metric {metric!r}; GET /api/history lists them")

    def make() -> bytes:
        points = store.history.points(metric, seconds)
        return Series(seq=snap.seq, taken_at=snap.taken_at, metric=metric, seconds=seconds,
                      points=points).model_dump_json().encode()
    return Response(snap.memo(f"json:history:{seconds}:{metric}", make), media_type="application/json")


def range_series(request: Request, metric: str, store, settings: Settings, since, until, step) -> Response:
    try:
        rng = parse_range(since, until, step)
    except RangeError as exc:
        raise HTTPException(422, str(exc)) from None
    db = history_db(request)
    try:
        known = metric in store.history.names() or (db is not None and db.ready and metric in db.names())
        if not known:
            raise HTTPException(404, f"no history for metric {metric!r}; GET /api/history lists them")
        source, found = buckets(store.history, db, metric, rng, settings.history_seconds)
    except HistoryUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None
    body = RangeSeries(metric=metric, source=source, since=rng.since, until=rng.until, step=rng.step,
                       points=[(t, m) for t, m, _, _ in found],
                       bands=[(t, lo, hi) for t, _, lo, hi in found])
    return Response(body.model_dump_json().encode(), media_type="application/json")
