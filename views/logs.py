"""Logs over HTTP: the /logs page, its fragment, its live stream, and the JSON API.

    GET /logs?source=journal&unit=sshd.service&level=err&since=1h     the page (filters in the URL)
    GET /fragments/logs?source=syslog&q=cron                          the page's view block (htmx)
    GET /logs/stream?source=syslog&q=cron&after=3.1764156721:120      SSE: event "lines", "status"
    GET /api/logs/sources                                             [{"name": "syslog", "available": true, ...}]
    GET /api/logs?source=syslog&lines=50&q=sshd&regex=...&level=warning&since=15m&until=now&unit=...

A request names a source by its configured name; ``resolve_query`` checks every parameter before
anything is read (unknown or path-looking names, bad regex, out-of-range lines, malformed times,
unit names) and answers a 4xx that says what was wrong. Paths and commands come from settings only.
"""
from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

import anyio
from annotated_types import Le
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from monitor.logs.filters import UNIT_RE, FilterError, LogFilter, RegexTimeout
from monitor.logs.follow import Batch, Follower, LogHub
from monitor.logs.lines import LEVELS, LogLine
from monitor.logs.reader import SourceUnavailable, read_lines
from monitor.logs.regex_guard import CheckerUnavailable
from monitor.logs.sources import NAME_PATTERN, NAME_RE, LogSource, SourceStatus, resolve, status
from monitor.settings import Settings

from .api import ErrorMessage
from .templating import env, templates

router = APIRouter(tags=["logs"])
pages = APIRouter(include_in_schema=False)

SEND_TIMEOUT = 10.0
STATUS_EVERY = 2.0  # seconds: how often a waiting stream looks at its follower's state
TEXT_MAX = 300  # longest raw parameter accepted (the filters have their own, tighter bounds)
MARK_RE = re.compile(r"([0-9.]{1,30}):([0-9]{1,18})")  # "generation:seq", a page's mark or an event id
SHUTDOWN_GRACE = 1.5  # seconds, as views/stream.py: below main.py's timeout_graceful_shutdown
# The schema's bound for `lines` is the largest SERVER_MONITOR_LOG_LINES_MAX allowed; the
# configured one (5000 by default) is checked per request, with a 422 naming it.
LINES_CAP = next(m.le for m in Settings.model_fields["log_lines_max"].metadata if isinstance(m, Le))


def get_hub(request: Request) -> LogHub:
    return request.app.state.logs


HubDep = Annotated[LogHub, Depends(get_hub)]


@dataclass(frozen=True)
class LogQuery:
    source: LogSource
    lines: int
    filter: LogFilter
    raw: dict[str, str]  # the validated parameters as given, for links and the stream's URL

    @property
    def query_string(self) -> str:
        return urlencode({"source": self.source.name, **self.raw})


@dataclass
class FilterParams:
    """The query parameters every log route shares (the source is declared per route)."""
    lines: Annotated[int | None, Query(ge=1, le=LINES_CAP, description="how many lines (default "
                                       "200; at most SERVER_MONITOR_LOG_LINES_MAX, 5000 unless "
                                       "configured: more is a 422)")] = None
    q: Annotated[str | None, Query(max_length=TEXT_MAX, description="text the line contains (any case)")] = None
    regex: Annotated[str | None, Query(max_length=TEXT_MAX, description="regular expression (smart case); "
                                       "at most 200 characters, repeat counts at most 1000, and it "
                                       "must compile within 0.5 s and 4 MiB")] = None
    level: Annotated[str | None, Query(max_length=TEXT_MAX, description="this level and more severe: "
                                       + ", ".join(LEVELS),
                                       json_schema_extra={"pattern": "^[A-Za-z]{1,10}$"})] = None
    since: Annotated[str | None, Query(max_length=TEXT_MAX, description="15m, 2h, 1d, ISO time or "
                                       "epoch; from 1970 to a year from now")] = None
    until: Annotated[str | None, Query(max_length=TEXT_MAX, description="same forms as since")] = None
    unit: Annotated[str | None, Query(max_length=TEXT_MAX, description="systemd unit (journal only)",
                                      json_schema_extra={"pattern": UNIT_RE.pattern})] = None


ParamsDep = Annotated[FilterParams, Depends()]
# The pattern is published in the schema but checked below, so that a path-looking name gets our
# own 400 message ("never by path") rather than a generic pattern error.
_SOURCE = dict(max_length=TEXT_MAX, json_schema_extra={"pattern": NAME_PATTERN})


def resolve_query(
    request: Request, *,
    source: Annotated[str | None, Query(description="a configured source name; default: the "
                                        "first readable one", **_SOURCE)] = None,
    params: ParamsDep,
) -> LogQuery:
    """The page's parameters: without a source it opens the first readable one."""
    if not source:
        sources: dict[str, LogSource] = request.app.state.log_sources
        if params.unit:
            source = "journal"  # /logs?unit=x from a process page
        else:
            source = next((n for n, s in sources.items() if status(s).available), next(iter(sources), ""))
    return _resolve(request, source, params)


def resolve_api_query(
    request: Request,
    source: Annotated[str, Query(description="a configured source name (see /api/logs/sources)", **_SOURCE)],
    params: ParamsDep,
) -> LogQuery:
    if not source:
        raise HTTPException(422, "source: required; see /api/logs/sources")
    return _resolve(request, source, params)


def _resolve(request: Request, source: str, p: FilterParams) -> LogQuery:
    """Every check, before anything is read. Runs in a worker thread (the dependencies are plain
    ``def``): a regex is checked by a helper process, which may take up to half a second."""
    settings = request.app.state.settings
    sources: dict[str, LogSource] = request.app.state.log_sources
    if not NAME_RE.fullmatch(source):
        raise HTTPException(400, f"source: {source[:60]!r} is not a source name; sources are named "
                                 "in the configuration (see /api/logs/sources), never by path")
    if source not in sources:
        raise HTTPException(404, f"source: no configured log source named {source!r}; "
                                 f"configured: {', '.join(sources) or 'none'}")
    src = sources[source]
    n = settings.log_lines if p.lines is None else p.lines
    if not 1 <= n <= settings.log_lines_max:
        raise HTTPException(422, f"lines: must be between 1 and {settings.log_lines_max}")
    if p.unit and src.kind != "journal":
        raise HTTPException(422, f"unit: applies to journal sources only; {source!r} is a file")
    try:
        filt = LogFilter.parse(q=p.q, regex=p.regex, level=p.level, since=p.since, until=p.until, unit=p.unit)
    except FilterError as e:
        raise HTTPException(422, str(e)) from None
    except CheckerUnavailable as e:
        raise HTTPException(503, f"regex: {e}", headers={"Retry-After": "1"}) from None
    raw = {k: v for k, v in (("lines", str(p.lines) if p.lines is not None else ""), ("q", p.q),
                             ("regex", p.regex), ("level", p.level), ("since", p.since),
                             ("until", p.until), ("unit", p.unit)) if v}
    return LogQuery(src, n, filt, raw)


QueryDep = Annotated[LogQuery, Depends(resolve_query)]
ApiQueryDep = Annotated[LogQuery, Depends(resolve_api_query)]


# -- JSON --------------------------------------------------------------------------------------
# A 422 is either our own {"detail"} or a validation error {"detail", "errors"}: one schema for both.
INVALID = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}


class LogsAnswer(BaseModel):
    source: str
    kind: str
    count: int
    lines: list[LogLine]
    incomplete: str | None = Field(None, description="why older matches may be missing (a search "
                                   "reads at most 64 MiB and 2 s of a file); null when none are")


@router.get("/api/logs/sources", response_model=list[SourceStatus],
            summary="Configured log sources and whether each can be read now")
async def api_sources(request: Request) -> list[SourceStatus]:
    return await asyncio.to_thread(_statuses, request.app.state.log_sources)


@router.get("/api/logs", response_model=LogsAnswer,
            summary="The last N lines of a source, filtered; oldest first",
            responses={400: {"model": ErrorMessage, "description": "source is not a name (a path, say)"},
                       404: {"model": ErrorMessage, "description": "no configured source of that name"},
                       422: {**INVALID, "description": "a parameter is missing or wrong (the "
                             "message names it): lines over the configured maximum, a regex that "
                             "is invalid, too complex to compile or too slow to match, a time out "
                             "of range, journalctl refusing a value"},
                       503: {"model": ErrorMessage, "description": "the source cannot be read now, "
                             "or the regex checker is busy (Retry-After)"}})
async def api_logs(query: ApiQueryDep) -> LogsAnswer:
    try:
        found = await asyncio.to_thread(read_lines, query.source, query.lines, query.filter)
    except SourceUnavailable as e:
        raise HTTPException(503, f"{query.source.name}: {e}") from None
    except FilterError as e:  # a regex too slow for these lines; journalctl refusing a value
        raise HTTPException(422, str(e)) from None
    return LogsAnswer(source=query.source.name, kind=query.source.kind, count=len(found),
                      lines=found, incomplete=getattr(found, "incomplete", None))


# -- HTML ----------------------------------------------------------------------------------------
def _statuses(sources: dict[str, LogSource]) -> list[SourceStatus]:
    return [status(s) for s in sources.values()]


async def _view(request: Request, hub: LogHub, query: LogQuery) -> dict:
    """Everything the view block shows: the lines up to the follower's mark, and the mark."""
    src = query.source
    st = await asyncio.to_thread(status, src)
    ctx = {"query": query, "source": src, "status": st, "lines": [], "error": None,
           "mark": None, "levels": LEVELS, "max_lines": request.app.state.settings.log_lines_max}
    if not st.available:
        ctx["error"] = st.reason
        return ctx
    follower = hub.follower(src.name)
    try:
        await asyncio.wait_for(follower.ready.wait(), 5)
    except TimeoutError:
        pass
    gen, seq, offset = follower.mark()
    end = await asyncio.to_thread(_end_for, src, offset)
    try:
        ctx["lines"] = await asyncio.to_thread(read_lines, src, query.lines, query.filter, end)
    except (SourceUnavailable, FilterError) as e:
        ctx["error"] = str(e)
    ctx["mark"] = (gen, seq)
    return ctx


def _end_for(src: LogSource, offset: tuple[int, int, int] | None) -> int | None:
    """The follower's offset if it is still reading the file a tail would read now."""
    if src.kind != "file" or offset is None:
        return None
    path = resolve(src)
    try:
        st = os.stat(path) if path else None
    except OSError:
        return None
    return offset[2] if st and (st.st_dev, st.st_ino) == offset[:2] else None


@pages.get("/logs", response_class=HTMLResponse)
async def logs_page(request: Request, hub: HubDep, query: QueryDep):
    ctx = await _view(request, hub, query)
    ctx["sources"] = await asyncio.to_thread(_statuses, request.app.state.log_sources)
    return templates.TemplateResponse(request, "logs_page.html", ctx)


@pages.get("/fragments/logs", response_class=HTMLResponse)
async def logs_fragment(request: Request, hub: HubDep, query: QueryDep):
    """The page's view block alone (the filter form swaps it in); the address bar shows /logs."""
    ctx = await _view(request, hub, query)
    return templates.TemplateResponse(request, "logs_page.html", ctx, block_name="view",
                                      headers={"HX-Push-Url": "/logs?" + query.query_string})


# -- live ------------------------------------------------------------------------------------------
def render_batch_lines(batch: Batch) -> list[Markup]:
    """Each line's HTML, rendered once per batch whoever watches (filters only pick among them).
    Each <li> carries its seq, so the page can drop a line it already shows (after a reconnect).
    Called from worker threads: two viewers racing render the batch twice, which is harmless."""
    def make() -> list[Markup]:
        macro = env.get_template("log_lines.html").module.log_line
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
                parts.append(str(env.get_template("log_lines.html").module.skipped(skipped)))
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
    return env.get_template("log_lines.html").module.follow_status(error)


@pages.get("/logs/stream")
async def logs_stream(request: Request, hub: HubDep, query: QueryDep,
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
