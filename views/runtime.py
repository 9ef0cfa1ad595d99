"""GET /api/console: the console's own process, to see that it does not leak or stall.

    $ curl -s -H "Authorization: Bearer $TOKEN" 127.0.0.1:8000/api/console
    {"pid":4242,"tasks":4,"threads":6,"rss":63176704,"fds":17,"ticks":600,"tick_lag_p50":0.0011,"tick_lag_p99":0.0042}

``tasks`` counts the asyncio tasks alive on the server's loop: each open SSE stream holds a few,
so after clients leave it must come back down. A stream whose task outlives its client would show
here first. ``tick_lag_*`` are seconds each recent tick started late (the Store keeps the last 600).
tests/test_churn.py and bench/bench_sse_clients.py read this before and after many clients.
"""
from __future__ import annotations

import asyncio
import os

import psutil
from fastapi import APIRouter
from pydantic import BaseModel, Field

from .deps import StoreDep

router = APIRouter(prefix="/api", tags=["service"])
_me = psutil.Process()


class Console(BaseModel):
    pid: int
    tasks: int = Field(description="asyncio tasks alive on the server's event loop")
    threads: int = Field(description="threads of the console's process")
    rss: int = Field(description="resident memory of the console's process, bytes")
    fds: int = Field(description="open file descriptors (sockets included)")
    ticks: int = Field(description="ticks whose lateness is kept below (at most 600)")
    tick_lag_p50: float | None = Field(description="median seconds a tick started late")
    tick_lag_p99: float | None = Field(description="99th percentile seconds a tick started late")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# async on purpose: asyncio.all_tasks() must run on the loop; the psutil reads of our own
# process are a few /proc lines, cheaper than a hop to a worker thread.
@router.get("/console", response_model=Console, summary="The console's own process: tasks, memory, tick lag")
async def console(store: StoreDep) -> Console:
    lags = list(store.tick_lag)
    return Console(
        pid=os.getpid(), tasks=len(asyncio.all_tasks()), threads=_me.num_threads(),
        rss=_me.memory_info().rss, fds=_me.num_fds(), ticks=len(lags),
        tick_lag_p50=percentile(lags, 0.50), tick_lag_p99=percentile(lags, 0.99),
    )
