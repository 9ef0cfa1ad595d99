"""The hot paths: GET /api/<area> and /api/snapshot answered without routing.

Their answer is bytes made once per tick (views/api.py, ``snap.memo``); per request the router
(a match against every route in order), FastAPI's dependency solving and its exception layers
cost several times what sending those bytes does (bench/perf_idle.py prints the request rate
next to a bare FastAPI app). This pure ASGI middleware sits innermost, inside every security
layer (headers, Host check, CSRF guard, access control, HEAD as GET), so a request reaching it
has already been allowed; it answers an exact path with no query string from the latest
snapshot and leaves anything else (a query, an area that could not be read: its 503) to the
routes, which give the same answers and are what OpenAPI documents.
"""
from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.store import Store

from .api import Answers

JSON = (b"content-type", b"application/json")


class HotPaths:
    def __init__(self, app: ASGIApp, store: Store, answers: Answers) -> None:
        self.app, self.store, self.answers = app, store, answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            make = self.answers.get(scope["path"])
            snap = self.store.seen()  # someone is looking (monitor/sampler.py WATCH_WINDOW)
            body = make(snap) if make is not None and snap is not None else None
            if body is not None:
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", str(len(body)).encode()), JSON]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
