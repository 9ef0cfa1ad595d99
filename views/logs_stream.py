"""The live tail over SSE: ``GET /logs/stream?source=syslog&q=cron&after=3.1764156721:120``.

One follower per source (monitor/logs/follow.py) is shared by every viewer; a stream picks the
lines of each batch that pass its filter and sends them as event "lines" (id ``generation:seq``),
the follower's state as event "status", and "end" when it stops for good (a regex too slow).
Each line's HTML is rendered once per batch whoever watches (``render_batch_lines``).
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Query, Request
from markupsafe import Markup
from sse_starlette import EventSourceResponse, ServerSentEvent

from monitor.logs.filters import LogFilter, RegexTimeout
from monitor.logs.follow import Batch, Follower
from monitor.logs.sources import status

from .deps import LogHubDep
from .logs_query import QueryDep
from .templating import env

pages = APIRouter(include_in_schema=False)

SEND_TIMEOUT = 10.0
STATUS_EVERY = 2.0  # seconds: how often a waiting stream looks at its follower's state
MARK_RE = re.compile(r"([0-9.]{1,30}):([0-9]{1,18})")  # "generation:seq", a page's mark or an event id
SHUTDOWN_GRACE = 1.5  # seconds, as views/stream.py: below main.py's timeout_graceful_shutdown
LINES = "cards/log_lines.html"  # the macros: log_line, skipped, follow_status


def render_batch_lines(batch: Batch) -> list[Markup]:
    """Each line's HTML, rendered once per batch whoever watches (filters only pick among them).
    Each <li> carries its seq, so the page can drop a line it already shows (after a reconnect).
    Called from worker threads: two viewers racing render the batch twice, which is harmless."""
    def make() -> list[Markup]:
        macro = env.get_template(LINES).module.log_line
        return [macro(line, seq) for seq, line in enumerate(batch.lines, batch.first)]
    return batch.memo("html", make)


def select_html(batches: list[Batch], seq: int, filt: LogFilter) -> list[str]:
    """The HTML of the lines after ``seq`` that pass ``filt``. Runs in a worker thread (matching
    and rendering cost CPU) with ONE regex budget for the whole call: RegexTimeout past it."""
    match = filt.matcher() if filt.active else None
    parts: list[str] = []
    for b in batches:
        html = render_batch_lines(b)
        start = max(0, seq - b.first + 1)  # lines of this batch already sent
        for line, h in zip(b.lines[start:], html[start:], strict=True):
            if match is None or match(line):
                parts.append(str(h))
    return parts


def _parse_after(after: str | None, last_event_id: str | None, follower: Follower) -> int:
    """The seq a stream starts after. A browser reconnecting sends the id of the last event it got
    (``Last-Event-ID``): resume there. Otherwise ``gen:seq`` from the page; a follower restarted
    since then starts its viewers at 0."""
    start = follower.seq
    if after:
        gen, _, seq = after.partition(":")
        if not re.fullmatch(r"[0-9]{1,18}", seq):  # not str.isdigit(): "²".isdigit() is True
            raise HTTPException(422, "after: expected the page's mark, generation:sequence")
        start = int(seq) if gen == follower.gen else 0
    if last_event_id and (m := MARK_RE.fullmatch(last_event_id)) and m[1] == follower.gen:
        start = int(m[2])
    return start


async def _wait(follower: Follower, seq: int, shutdown: anyio.Event) -> tuple[list[Batch], int] | None:
    """The follower's next batches, or None as soon as the server is stopping (a wait of up to
    STATUS_EVERY would outlast the shutdown grace)."""
    batches = asyncio.ensure_future(follower.wait_after(seq, timeout=STATUS_EVERY))
    stop = asyncio.ensure_future(shutdown.wait())
    try:
        await asyncio.wait({batches, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (batches, stop):
            t.cancel()
    return None if shutdown.is_set() or not batches.done() or batches.cancelled() else batches.result()


async def _live(request: Request, follower: Follower, filt: LogFilter, seq: int,
                shutdown: anyio.Event) -> AsyncIterator[ServerSentEvent]:
    shown_error: object = ()
    async with follower.watching():
        while True:
            if follower.error != shown_error:
                shown_error = follower.error
                yield ServerSentEvent(event="status", data=str(_status_html(follower.error)))
            got = await _wait(follower, seq, shutdown)
            if got is None:
                # The server is stopping: end the response properly (the browser reconnects to
                # the restarted console and resumes from its Last-Event-ID) rather than be cut off.
                return
            batches, skipped = got
            if follower.task is not None and follower.task.done():
                return  # the follower stopped; the browser reconnects and starts a new one
            if not batches:
                continue
            parts: list[str] = []
            if skipped:
                parts.append(str(env.get_template(LINES).module.skipped(skipped)))
            try:
                parts += await asyncio.to_thread(select_html, batches, seq, filt)
            except RegexTimeout as e:
                # A pattern too slow for these lines would be as slow for the next: stop, and say
                # why. "end" closes the page's EventSource (sse-close), so it does not reconnect.
                seq = batches[-1].last
                yield ServerSentEvent(event="status", data=str(_status_html(f"stopped, the pattern is too slow for these lines ({e})")),
                                      id=f"{follower.gen}:{seq}")
                yield ServerSentEvent(event="end", data="")
                return
            seq = batches[-1].last
            if parts:
                yield ServerSentEvent(event="lines", data="".join(parts), id=f"{follower.gen}:{seq}")


def _status_html(error: str | None) -> Markup:
    return env.get_template(LINES).module.follow_status(error)


@pages.get("/logs/stream")
async def logs_stream(request: Request, hub: LogHubDep, query: QueryDep,
                      after: Annotated[str | None, Query(max_length=40)] = None) -> EventSourceResponse:
    """Lines as they are written: one follower per source, shared by every viewer."""
    st = await asyncio.to_thread(status, query.source)
    if not st.available:
        raise HTTPException(503, f"{query.source.name}: {st.reason}")
    follower = hub.follower(query.source.name)
    seq = _parse_after(after, request.headers.get("last-event-id"), follower)
    # On SIGTERM sse-starlette sets `shutdown`; _live returns within the grace period, so the
    # response ends with its last chunk instead of "ASGI callable returned without completing".
    shutdown = anyio.Event()
    return EventSourceResponse(_live(request, follower, query.filter, seq, shutdown),
                               send_timeout=SEND_TIMEOUT, ping=15,
                               shutdown_event=shutdown, shutdown_grace_period=SHUTDOWN_GRACE)
