"""Logs over HTTP: the /logs page, its fragment, and the JSON API; the live stream is in
views/logs_stream.py (its route is part of ``pages``), parameter checks in views/logs_query.py.

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

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from monitor.logs.filters import FilterError
from monitor.logs.follow import LogHub
from monitor.logs.lines import LEVELS, LogLine
from monitor.logs.reader import SourceUnavailable, read_lines
from monitor.logs.sources import LogSource, SourceStatus, resolve, status
from monitor.settings import Settings

from . import logs_stream
from .api import ErrorMessage
from .deps import LogHubDep, LogSourcesDep, SettingsDep
from .logs_query import ApiQueryDep, LogQuery, ParamsDep, QueryDep, SourceParam, resolve_query
from .templating import templates

router = APIRouter(tags=["logs"])
pages = APIRouter(include_in_schema=False)
PAGE = "pages/logs_page.html"


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
async def api_sources(sources: LogSourcesDep) -> list[SourceStatus]:
    return await asyncio.to_thread(_statuses, sources)


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


async def _view(settings: Settings, hub: LogHub, query: LogQuery) -> dict:
    """Everything the view block shows: the lines up to the follower's mark, and the mark."""
    src = query.source
    st = await asyncio.to_thread(status, src)
    ctx = {"query": query, "source": src, "status": st, "lines": [], "error": None,
           "mark": None, "levels": LEVELS, "max_lines": settings.log_lines_max}
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
async def logs_page(request: Request, settings: SettingsDep, sources: LogSourcesDep,
                    hub: LogHubDep, query: QueryDep):
    ctx = await _view(settings, hub, query)
    ctx["sources"] = await asyncio.to_thread(_statuses, sources)
    return templates.TemplateResponse(request, PAGE, ctx)


FIELDS = ("source", "lines", "q", "regex", "level", "since", "until", "unit")


@pages.get("/fragments/logs", response_class=HTMLResponse,
           responses={422: {"description": "a filter is wrong: the field's error, as a fragment"}})
async def logs_fragment(request: Request, settings: SettingsDep, sources: LogSourcesDep, hub: LogHubDep,
                        params: ParamsDep, source: SourceParam = None):
    """The page's view block alone (the filter form swaps it in as the operator types); the
    address bar shows /logs (replaced, not pushed: typing is not navigation). A refused filter
    answers its 4xx with the message for that field's error slot, next to the field."""
    try:
        query = await asyncio.to_thread(resolve_query, settings, sources, source=source, params=params)
    except HTTPException as e:
        field = str(e.detail).partition(":")[0]
        field = field if field in FIELDS else "form"
        if field == "unit" and source in sources and sources[source].kind != "journal":
            field = "form"  # a file source's form has no unit field to put it next to
        return templates.TemplateResponse(
            request, "cards/log_field_error.html", {"field": field, "message": e.detail},
            status_code=e.status_code,
            headers={"HX-Retarget": f"#log-error-{field}", "HX-Reswap": "innerHTML", **(e.headers or {})})
    ctx = await _view(settings, hub, query)
    return templates.TemplateResponse(request, PAGE, ctx, block_name="view",
                                      headers={"HX-Replace-Url": "/logs?" + query.query_string})


pages.include_router(logs_stream.pages)  # GET /logs/stream, under the same page dependencies
