"""The JSON API: a stable, documented contract (OpenAPI at /docs). Raw units, psutil's names.

Every answer carries the ``seq`` and ``taken_at`` of the snapshot it was read from. The JSON of
an answer is made once per snapshot and reused for every request of that tick.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field, create_model

from monitor.collectors.base import Collector
from monitor.sampler import Snapshot

from .deps import SnapshotDep


class Stamp(BaseModel):
    seq: int = Field(description="sample number since the console started; grows by one per tick")
    taken_at: float = Field(description="when the sample was taken, seconds since the epoch")


class ErrorMessage(BaseModel):
    detail: str = Field(description="what was wrong, in plain words")


class Health(BaseModel):
    status: str = "ok"


def _body(snap: Snapshot, key: str, model: type[BaseModel], **fields) -> bytes:
    return snap.memo(f"json:{key}", lambda: model(
        seq=snap.seq, taken_at=snap.taken_at, **fields).model_dump_json().encode())


def _json(snap: Snapshot, key: str, model: type[BaseModel], **fields) -> Response:
    return Response(_body(snap, key, model, **fields), media_type="application/json")


# path -> snapshot -> the answer's bytes (None: let the route answer, e.g. the 503 of an area that
# could not be read). views/hot.py serves these paths without routing; the routes are the same
# answers, and what OpenAPI documents.
Answers = dict[str, Callable[[Snapshot], "bytes | None"]]


def build_router(collectors: Sequence[Collector], answers: Answers | None = None) -> APIRouter:
    """/api/snapshot and /api/<area>; ``answers`` gets each one's bytes maker (views/hot.py)."""
    answers = answers if answers is not None else {}
    router = APIRouter(prefix="/api", tags=["host"])
    areas = {c.name: c.model for c in collectors}

    snapshot_model = create_model(
        "Snapshot", __base__=Stamp,
        **{name: (model | None, None) for name, model in areas.items()},
        unavailable=(dict[str, str], Field(default_factory=dict,
                                           description="area -> why it could not be collected")),
    )

    # async: the answer is bytes made once per tick; a plain def would cost a thread hand-off
    # per request, more than the answer itself.
    def snapshot_body(snap: Snapshot) -> bytes:
        return _body(snap, "snapshot", snapshot_model,
                     **{n: snap.get(n) for n in areas}, unavailable=dict(snap.unavailable))

    @router.get("/snapshot", response_model=snapshot_model, summary="Every area at once")
    async def snapshot(snap: SnapshotDep):
        return Response(snapshot_body(snap), media_type="application/json")

    answers["/api/snapshot"] = snapshot_body

    for c in collectors:
        # An area with its own router (query parameters, sub-resources) opts out of the plain one.
        if not getattr(c, "custom_api", False):
            answers[f"/api/{c.name}"] = _add_area_route(router, c.name, c.model)
    return router


def _add_area_route(router: APIRouter, name: str, model: type[BaseModel]) -> Callable[[Snapshot], bytes | None]:
    response_model = create_model(f"{model.__name__}Response", __base__=Stamp, **{name: (model, ...)})

    def body(snap: Snapshot) -> bytes | None:
        data = snap.get(name)
        return None if data is None else _body(snap, name, response_model, **{name: data})

    async def area(snap: SnapshotDep):  # async: see /snapshot
        answer = body(snap)
        if answer is None:
            raise HTTPException(503, f"{name} unavailable: {snap.unavailable.get(name, 'unknown')}")
        return Response(answer, media_type="application/json")

    router.add_api_route(
        f"/{name}", area, methods=["GET"], response_model=response_model,
        summary=f"The {name} area of the latest sample",
        responses={503: {"model": ErrorMessage, "description": f"{name} could not be collected"}},
        name=f"api_{name}",
    )
    return body


health_router = APIRouter(tags=["service"])


@health_router.get("/healthz", response_model=Health, summary="Liveness: the console answers")
async def healthz() -> Health:
    # async, on the event loop itself: a plain def would wait for a free worker thread, and it
    # reads nothing the sampler makes, so no collector or judgment can hold it up.
    return Health()
