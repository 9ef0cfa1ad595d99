"""Processes: the live table, rows that expand in place, one process's page, and the JSON API.

    /processes?sort=memory&q=postgres&open=912,4121   the table (page); state lives in the URL
    /fragments/processes?...&toggle=912               the table's swappable block (htmx poll/click)
    /processes/912?started=1795692801.37              one process, safe against PID reuse
    /fragments/processes/912?started=...              that page's polled detail block
    /api/processes?sort=cpu&order=desc&limit=50&q=&status=
    /api/processes/912?started=...

The table comes from the sampler's snapshot (sorted lists memoised per snapshot); only the
detail of an open row is read per request (monitor/process_detail.py). The page and its
fragment are one template (templates/process_table.html): the fragment renders its ``view`` block,
which holds the ``rows`` block with each open row's detail right after the row, so a refresh keeps
it open and attached to the same PID however the sort moves it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from monitor.collectors.processes import (
    DEFAULT_ORDER,
    Order,
    ProcessRow,
    Processes,
    SortKey,
    StatusFilter,
    filter_rows,
    sort_rows,
)
from monitor.process_detail import ProcessDetail, ProcessNotFound, read_detail
from monitor.sampler import Snapshot

from .api import ErrorMessage, Stamp
from .deps import SettingsDep, SnapshotDep
from .templating import templates

PID_MAX = 4_194_304  # the kernel's largest pid_max (2^22)
MAX_OPEN = 20  # expanded rows per view: each is read per request, every refresh
PAGE_LIMIT = 100
COLUMNS: list[tuple[str | None, str]] = [  # (sort key or None, heading), in table order
    ("pid", "PID"), ("name", "Name"), ("user", "User"), (None, "Status"), ("cpu", "CPU"),
    ("memory", "Memory"), (None, "RSS"), ("threads", "Threads"), (None, "Nice"),
    ("start", "Started"), (None, "Command"),
]
STATUSES: list[str] = list(StatusFilter.__args__)
# The status filter as a query parameter: "" (the form's "any") is the same as leaving it out.
StatusParam = Literal[("", *STATUSES)]  # type: ignore[valid-type]
STOP_POLLING = 286  # htmx stops polling an element that receives this status

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["processes"])

PidPath = Annotated[int, Path(ge=1, le=PID_MAX, description="process id")]
Started = Annotated[float | None, Query(
    ge=0, le=1e11, allow_inf_nan=False,
    description="the process's create_time from the table: a PID that now belongs to another "
                "process answers 404 instead of showing the wrong one")]


# -- the table's state: everything a view needs, all of it in the URL --------------------------

@dataclass(frozen=True)
class TableState:
    sort: str = "cpu"
    order: str = "desc"
    q: str = ""
    status: str | None = None
    open: tuple[int, ...] = ()  # expanded rows, in the order they were opened
    limit: int = PAGE_LIMIT

    def query(self) -> str:
        """Canonical query string: defaults left out, so the plain view is just /processes."""
        params: list[tuple[str, str]] = []
        if self.sort != "cpu" or self.order != DEFAULT_ORDER[self.sort]:
            params += [("sort", self.sort), ("order", self.order)]
        if self.q:
            params.append(("q", self.q))
        if self.status:
            params.append(("status", self.status))
        if self.open:
            params.append(("open", ",".join(map(str, self.open))))
        if self.limit != PAGE_LIMIT:
            params.append(("limit", str(self.limit)))
        return urlencode(params)

    def url(self, **change) -> str:
        q = replace(self, **change).query() if change else self.query()
        return "/processes" + (f"?{q}" if q else "")

    def toggled(self, pid: int) -> TableState:
        if pid in self.open:
            return replace(self, open=tuple(p for p in self.open if p != pid))
        return replace(self, open=(*self.open, pid)[-MAX_OPEN:])

    def sort_link(self, key: str) -> tuple[str, str]:
        """(order a click on column ``key`` asks for, the page URL of that view)."""
        order = ("asc" if self.order == "desc" else "desc") if key == self.sort else DEFAULT_ORDER[key]
        return order, self.url(sort=key, order=order)


def parse_open(value: str) -> tuple[int, ...]:
    """ "912,4121" -> (912, 4121): unique, in range, at most MAX_OPEN (the newest kept)."""
    out: list[int] = []
    for part in value.split(","):
        if part.strip().isdigit():
            pid = int(part)
            if 1 <= pid <= PID_MAX and pid not in out:
                out.append(pid)
    return tuple(out[-MAX_OPEN:])


def view_filters(
    sort: Annotated[SortKey, Query(description="column to sort by")] = "cpu",
    order: Annotated[Order | None, Query(description="default: desc for numbers and start time, "
                                                     "asc for pid, name and user")] = None,
    q: Annotated[str, Query(max_length=200, description="words that must all occur in the "
                                                        "pid, name, user or command line")] = "",
    status: Annotated[StatusParam | None, Query(description="only this status ('' for any)")] = None,
) -> TableState:
    """Sort and filters, shared by the page and the API."""
    return TableState(sort=sort, order=order or DEFAULT_ORDER[sort], q=q.strip(), status=status or None)


def table_state(
    base: Annotated[TableState, Depends(view_filters)],
    open: Annotated[str, Query(max_length=400, pattern=r"^[0-9, ]*$",
                               description="expanded rows: comma-separated PIDs")] = "",
    limit: Annotated[int, Query(ge=1, le=10_000, description="rows shown")] = PAGE_LIMIT,
) -> TableState:
    """The page's whole view: sort and filters plus the open rows and how many rows to show."""
    return replace(base, open=parse_open(open), limit=limit)


StateDep = Annotated[TableState, Depends(table_state)]
FiltersDep = Annotated[TableState, Depends(view_filters)]


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
    shown = matched[: state.limit]
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
        "details": details, "columns": COLUMNS, "statuses": STATUSES,
    }


def pid_index(snap: Snapshot, data: Processes) -> dict[int, ProcessRow]:
    return snap.memo("processes:by_pid", lambda: {r.pid: r for r in data.rows})


@router.get("/processes", response_class=HTMLResponse)
def processes_page(request: Request, snap: SnapshotDep, state: StateDep, settings: SettingsDep):
    return templates.TemplateResponse(request, "process_table.html",
                                      table_context(snap, state, settings.mask_secrets))


@router.get("/fragments/processes", response_class=HTMLResponse)
def processes_fragment(request: Request, snap: SnapshotDep, state: StateDep, settings: SettingsDep,
                       toggle: Annotated[int | None, Query(ge=1, le=PID_MAX)] = None):
    """The table's ``view`` block. A click on a row sends ``toggle=<pid>``; the answer tells htmx
    the page URL of the new view (pushed for sort and expand, replaced for typing and polls)."""
    if toggle is not None:
        state = state.toggled(toggle)
    headers = history_headers(request.headers.get("hx-current-url"), state)
    return templates.TemplateResponse(request, "process_table.html",
                                      table_context(snap, state, settings.mask_secrets),
                                      headers=headers, block_name="view")


def history_headers(current_url: str | None, state: TableState) -> dict[str, str]:
    """HX-Push-Url when the sort or the open rows changed (back button undoes it), HX-Replace-Url
    when only the filter changed (no history entry per keystroke), nothing for a plain poll."""
    new = state.url()
    old = _state_of_url(current_url)
    if old is not None and old.url() == new:
        return {}
    if old is not None and (old.sort, old.order, old.open) == (state.sort, state.order, state.open):
        return {"HX-Replace-Url": new}
    return {"HX-Push-Url": new}


def _state_of_url(url: str | None) -> TableState | None:
    """The view a page URL shows (HX-Current-URL), or None when it is not a valid table URL."""
    if not url:
        return None
    try:  # a header is client input: a malformed URL ("http://[/x") is simply not a table URL
        parts = urlsplit(url)
        if parts.path != "/processes":
            return None
        params = dict(parse_qsl(parts.query))
        base = view_filters(sort=params.get("sort", "cpu"), order=params.get("order"),
                            q=params.get("q", ""), status=params.get("status"))
        return replace(base, open=parse_open(params.get("open", "")),
                       limit=int(params.get("limit", PAGE_LIMIT)))
    except (KeyError, ValueError):
        return None


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
    return templates.TemplateResponse(request, "process.html", {"d": d, "snap": snap})


@router.get("/fragments/processes/{pid}", response_class=HTMLResponse)
def process_fragment(request: Request, pid: PidPath, snap: SnapshotDep, settings: SettingsDep,
                     started: Started = None):
    """The page's polled detail; once the process is gone, a last message and no more polling."""
    try:
        d = detail_of(snap, pid, started, settings.mask_secrets)
    except HTTPException as exc:
        return templates.TemplateResponse(request, "process.html",
                                          {"gone": exc.detail, "pid": pid, "started": started},
                                          status_code=STOP_POLLING, block_name="detail")
    return templates.TemplateResponse(request, "process.html", {"d": d, "snap": snap},
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

