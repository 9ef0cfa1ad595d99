"""History JSON: the ring buffers behind every sparkline, as (time, value) pairs.

    $ curl -s '127.0.0.1:8000/api/history'
    {"seq": 42, "taken_at": 1795693001.2, "seconds": 900,
     "metrics": ["cpu.load1", "cpu.percent", "disks./.percent", "network.bytes_recv_per_s", ...]}
    $ curl -s '127.0.0.1:8000/api/history/cpu.percent?seconds=3'
    {"seq": 42, "taken_at": 1795693001.2, "metric": "cpu.percent", "seconds": 3,
     "points": [[1795692998.2, 2.2], [1795692999.2, 3.1], [1795693000.2, 2.0], [1795693001.2, 4.5]]}

Metric names are the collectors' ``series()`` keys (documented in each collector's docstring);
some contain "/" (``disks./var.percent``), so the route takes the rest of the path as the name.
An answer is made once per snapshot and window, like every other /api answer.
"""
from __future__ import annotations

from typing import Annotated

from annotated_types import Le
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import Field

from monitor.settings import Settings

from .api import ErrorMessage, Stamp
from .deps import SettingsDep, SnapshotDep, StoreDep

router = APIRouter(prefix="/api/history", tags=["history"])
DEFAULT_SECONDS = 300  # the sparklines' window
# The schema's bound is the most history any console may keep (SERVER_MONITOR_HISTORY_SECONDS's
# own maximum); what this console keeps is checked per request, a 422 that names it.
SECONDS_CAP = next(m.le for m in Settings.model_fields["history_seconds"].metadata if isinstance(m, Le))
NOT_YET = {503: {"model": ErrorMessage, "description": "no sample taken yet (just started; Retry-After)"}}


class Metrics(Stamp):
    seconds: int = Field(description="how many seconds of history are kept per metric")
    metrics: list[str] = Field(description="names accepted by /api/history/{metric}")


class Series(Stamp):
    metric: str
    seconds: int = Field(description="the window asked for, ending at the newest point")
    points: list[tuple[float, float]] = Field(
        description="[taken_at, value] pairs, oldest first; taken_at in seconds since the epoch")


@router.get("", response_model=Metrics, responses=NOT_YET, summary="Names of the metrics that keep history")
def metrics(snap: SnapshotDep, store: StoreDep, settings: SettingsDep):
    body = snap.memo("json:history", lambda: Metrics(
        seq=snap.seq, taken_at=snap.taken_at, seconds=settings.history_seconds,
        metrics=store.history.names()).model_dump_json().encode())
    return Response(body, media_type="application/json")


@router.get("/{metric:path}", response_model=Series,
            summary="One metric's (time, value) pairs over the last N seconds",
            responses={404: {"model": ErrorMessage, "description": "no such metric"},
                       422: {"model": ErrorMessage, "description": "seconds out of range"}, **NOT_YET})
def series(metric: str, snap: SnapshotDep, store: StoreDep, settings: SettingsDep,
           seconds: Annotated[int | None, Query(
               ge=1, le=SECONDS_CAP, description="window length in seconds, at most the history kept "
               "(SERVER_MONITOR_HISTORY_SECONDS); default 300 or all that is kept")] = None):
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
