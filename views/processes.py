"""Processes: the live table, rows that expand in place, one process's page, and the JSON API.

    /processes?sort=memory&q=postgres&open=912,4121   the table (page); state lives in the URL
    /fragments/processes?...&toggle=912               the table's swappable block (htmx poll/click)
    /processes/912?started=1795692801.37              one process, safe against PID reuse
    /fragments/processes/912?started=...              that page's polled detail block
    /api/processes?sort=cpu&order=desc&limit=50&q=&status=   (also /api/process, its alias)
    /api/processes/912?started=...

The table comes from the sampler's snapshot (sorted lists memoised per snapshot); only the
detail of an open row is read per request (monitor/process_detail.py). The page and its
fragment are one template (``pages/process_table.html``): the fragment renders its ``view`` block,
which holds the ``rows`` block with each open row's detail right after the row, so a refresh keeps
it open and attached to the same PID however the sort moves it.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2_fragments import render_block
from pydantic import Field

from monitor.collectors.processes import ProcessRow, Processes
from monitor.process_detail import ProcessDetail, ProcessNotFound, read_detail
from monitor.process_rows import Order, SortKey, StatusFilter, filter_rows, sort_rows
from monitor.sampler import Snapshot

from .api import ErrorMessage, Stamp
from .deps import SettingsDep, SnapshotDep
from .process_table import (  # noqa: F401 - the names callers import from here
    COLUMNS,
    MAX_OPEN,
    PAGE_LIMIT,
    PID_MAX,
    STATUSES,
    FiltersDep,
    StateDep,
    TableState,
    history_headers,
    parse_open,
    table_state,
    view_filters,
)
from .templating import templates

STOP_POLLING = 286  # htmx stops polling an element that receives this status

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["processes"])

PidPath = Annotated[int, Path(ge=1, le=PID_MAX, description="process id")]
Started = Annotated[float | None, Query(
    ge=0, le=1e11, allow_inf_nan=False,
    description="the process's create_time from the table: a PID that now belongs to another "
                "process answers 404 instead of showing the wrong one")]


def processes_of(snap: Snapshot) -> Processes:
    data = snap.get("processes")
    if data is None:
        reason = snap.unavailable.get("processes", "not collected yet")
        raise HTTPException(503, f"the process table is unavailable: {reason}", headers={"Retry-After": "2"})
    return data  # type: ignore[return-value]


def sorted_rows(snap: Snapshot, data: Processes, sort: str, order: str) -> list[ProcessRow]:
    """Sorted once per snapshot and order, shared by every viewer of that tick. (These routes are
    plain ``def``, run in threads, because an open row's detail reads /proc; two threads racing on
    the memo both compute the same list, and either one is kept.)"""
    return snap.memo(f"processes:sorted:{sort}:{order}", lambda: sort_rows(data.rows, sort, order))


def select(snap: Snapshot, state: TableState) -> tuple[Processes, list[ProcessRow]]:
    data = processes_of(snap)
    rows = sorted_rows(snap, data, state.sort, state.order)
    if state.q or state.status:
        rows = filter_rows(rows, state.q, state.status)
    return data, rows


# -- HTML: the table page and its fragment -------------------------------------------------------

def table_context(snap: Snapshot, state: TableState, mask: bool) -> dict:
    data, matched = select(snap, state)
    # Open rows are pinned at the top, in the order they were opened, so a row being read does
    # not move while the sort re-ranks the rest every tick (the table says so).
    by_match = {r.pid: r for r in matched}
    pinned = [by_match[p] for p in state.open if p in by_match]
    rest = [r for r in matched if r.pid not in state.open] if pinned else matched
    shown = pinned + rest[: max(0, state.limit - len(pinned))]
    visible = {r.pid: r for r in shown}
    by_pid = pid_index(snap, data)
    details: dict[int, ProcessDetail | str] = {}
    for pid in state.open:
        row = visible.get(pid)
        if row is None:
            continue  # filtered out or gone: stays in the URL, shown again when it matches
        try:
            details[pid] = read_detail(pid, started=row.create_time, rows=by_pid, mask=mask)
        except ProcessNotFound as exc:
            details[pid] = str(exc)
    return {
        "snap": snap, "data": data, "state": state, "rows": shown, "matched": len(matched),
        "pinned": len(pinned),
        "details": details, "columns": COLUMNS, "statuses": STATUSES,
    }


def pid_index(snap: Snapshot, data: Processes) -> dict[int, ProcessRow]:
    return snap.memo("processes:by_pid", lambda: {r.pid: r for r in data.rows})


@router.get("/processes", response_class=HTMLResponse)
def processes_page(request: Request, snap: SnapshotDep, state: StateDep, settings: SettingsDep):
    return templates.TemplateResponse(request, "pages/process_table.html",
                                      table_context(snap, state, settings.mask_secrets))


@router.get("/fragments/processes", response_class=HTMLResponse)
def processes_fragment(request: Request, snap: SnapshotDep, state: StateDep, settings: SettingsDep,
                       toggle: Annotated[int | None, Query(ge=1, le=PID_MAX)] = None):
    """The table's ``view`` block. A click on a row sends ``toggle=<pid>``; the answer tells htmx
    the page URL of the new view (pushed for sort and expand, replaced for typing and polls)."""
    if toggle is not None:
        state = state.toggled(toggle)
    headers = history_headers(request.headers.get("hx-current-url"), state)
    if shared_view(state):  # every poll of this view in this tick gets one rendering
        html = snap.memo(f"processes:view:{state!r}:{settings.mask_secrets}", lambda: render_block(
            templates.env, "pages/process_table.html", "view",
            table_context(snap, state, settings.mask_secrets)))
        return HTMLResponse(html, headers=headers)
    return templates.TemplateResponse(request, "pages/process_table.html",
                                      table_context(snap, state, settings.mask_secrets),
                                      headers=headers, block_name="view")


def shared_view(state: TableState) -> bool:
    """A view whose HTML depends on the snapshot alone, from a bounded set (sort, order, status,
    density: under 200 per tick): no open row (its detail is read per request), no free-text
    filter, the default page length."""
    return not state.open and not state.q and state.limit == PAGE_LIMIT


# -- HTML: one process -------------------------------------------------------------------------

def detail_of(snap: Snapshot, pid: int, started: float | None, mask: bool) -> ProcessDetail:
    data = snap.get("processes")
    rows = pid_index(snap, data) if data is not None else {}
    try:
        return read_detail(pid, started=started, rows=rows, mask=mask)
    except ProcessNotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/processes/{pid}", response_class=HTMLResponse)
def process_page(request: Request, pid: PidPath, snap: SnapshotDep, settings: SettingsDep,
                 started: Started = None):
    d = detail_of(snap, pid, started, settings.mask_secrets)
    return templates.TemplateResponse(request, "pages/process.html", {"d": d, "snap": snap})


@router.get("/fragments/processes/{pid}", response_class=HTMLResponse)
def process_fragment(request: Request, pid: PidPath, snap: SnapshotDep, settings: SettingsDep,
                     started: Started = None):
    """The page's polled detail; once the process is gone, a last message and no more polling."""
    try:
        d = detail_of(snap, pid, started, settings.mask_secrets)
    except HTTPException as exc:
        return templates.TemplateResponse(request, "pages/process.html",
                                          {"gone": exc.detail, "pid": pid, "started": started},
                                          status_code=STOP_POLLING, block_name="detail")
    return templates.TemplateResponse(request, "pages/process.html", {"d": d, "snap": snap},
                                      block_name="detail")


# -- JSON ---------------------------------------------------------------------------------------

class ProcessList(Stamp):
    sort: SortKey
    order: Order
    q: str = Field(description="the filter applied ('' for none)")
    status: StatusFilter | None
    total: int = Field(description="processes on the host")
    matched: int = Field(description="processes that pass the filters (before limit)")
    counts: dict[str, int] = Field(description="processes per status word, over all processes")
    processes: list[ProcessRow]


class ProcessDetailResponse(Stamp):
    process: ProcessDetail


NOT_FOUND = {404: {"model": ErrorMessage, "description": "no such process, or its PID was reused"}}
UNAVAILABLE = {503: {"model": ErrorMessage, "description": "the process table could not be collected"}}


@api_router.get("/processes", response_model=ProcessList, responses=UNAVAILABLE,
                summary="The process table, sorted, filtered and limited")
@api_router.get("/process", response_model=ProcessList, responses=UNAVAILABLE,
                summary="Alias of /api/processes",
                description="The console's original name for the process list: the same "
                            "parameters and the same answer as `/api/processes`.")
def api_processes(snap: SnapshotDep, state: FiltersDep,
                  limit: Annotated[int, Query(ge=1, le=10_000, description="rows returned")] = 50):
    data, rows = select(snap, state)
    body = ProcessList(seq=snap.seq, taken_at=snap.taken_at, sort=state.sort, order=state.order,
                       q=state.q, status=state.status, total=data.total, matched=len(rows),
                       counts=data.counts, processes=rows[:limit])
    return Response(body.model_dump_json(), media_type="application/json")


@api_router.get("/processes/{pid}", response_model=ProcessDetailResponse,
                responses={**NOT_FOUND, **UNAVAILABLE}, summary="One process in detail (read now)")
def api_process(pid: PidPath, snap: SnapshotDep, settings: SettingsDep, started: Started = None):
    d = detail_of(snap, pid, started, settings.mask_secrets)
    body = ProcessDetailResponse(seq=snap.seq, taken_at=snap.taken_at, process=d)
    return Response(body.model_dump_json(), media_type="application/json")
