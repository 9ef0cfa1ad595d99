"""SSE: one connection per page; each card is a named event (``event: cpu``).

Each tick's events are encoded to bytes once (memoised on the snapshot) and the same bytes are
written to every client. A client waits on the latest snapshot only, so one that reads slowly
skips ticks instead of queueing them: memory per client stays flat.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from monitor.sampler import Snapshot, Store

from .cards import render_card, render_tick
from .deps import StoreDep

router = APIRouter(tags=["stream"])

# A client whose socket does not drain within this many seconds is dropped (it reconnects).
SEND_TIMEOUT = 10.0


def encoded_events(store: Store, snap: Snapshot, areas: Sequence[str]) -> bytes:
    """All of one tick's events as one SSE byte string, made once per snapshot."""
    def make() -> bytes:
        events = [ServerSentEvent(data=str(render_card(store, snap, a)), event=a) for a in areas]
        events.append(ServerSentEvent(data=str(render_tick(snap)), event="tick", id=str(snap.seq)))
        return b"".join(e.encode() for e in events)
    return snap.memo("sse:" + ",".join(areas), make)


async def _events(request: Request, store: Store, areas: Sequence[str]) -> AsyncIterator[bytes]:
    seq = -1
    if store.latest is not None:  # a new or reconnecting page gets the current state at once
        seq = store.latest.seq
        yield encoded_events(store, store.latest, areas)
    while True:
        snap = await store.wait_newer(seq)
        seq = snap.seq
        yield encoded_events(store, snap, areas)


@router.get("/stream", summary="Live cards as server-sent events (the dashboard's one connection)")
async def stream(request: Request, store: StoreDep) -> EventSourceResponse:
    areas = request.app.state.card_areas
    return EventSourceResponse(_events(request, store, areas), send_timeout=SEND_TIMEOUT, ping=15)
