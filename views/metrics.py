"""GET /metrics: the latest snapshot in Prometheus' text format (or OpenMetrics).

The families, and prometheus_client with them, are imported at the first scrape
(views/metrics_families.py): a console nobody scrapes does not hold them (1.4 MiB of the
console's RSS, issue 19). The exposition is made once per snapshot and format, however many
Prometheus servers scrape. ``Accept: application/openmetrics-text`` gets OpenMetrics.
"""
from __future__ import annotations

import functools

from fastapi import APIRouter, Request
from fastapi.responses import Response

from monitor.sampler import Store

from .deps import SnapshotDep

# prometheus_client's CONTENT_TYPE_LATEST of each format (tests/test_metrics.py checks they agree)
TEXT = "text/plain; version=1.0.0; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def build_router(store: Store) -> APIRouter:
    router = APIRouter(tags=["service"])
    @functools.cache
    def registry():  # made at the first scrape
        from .metrics_families import registry_of
        return registry_of(store)

    @router.get("/metrics", summary="Prometheus text format (or OpenMetrics) of the latest sample",
                response_class=Response,
                responses={200: {"content": {TEXT: {}, OPENMETRICS: {}}}})
    def metrics(snap: SnapshotDep, request: Request) -> Response:
        from prometheus_client.exposition import choose_encoder
        encode, media_type = choose_encoder(request.headers.get("accept"))
        body = snap.memo(f"metrics {media_type}", lambda: encode(registry()))
        return Response(body, media_type=media_type)

    return router
