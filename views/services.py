"""Services: the unit table with rows that expand in place, one unit's page, and its JSON.

    /services?sort=cpu&q=php&state=failed&type=service&open=nginx.service   the table (page)
    /fragments/services?...&toggle=nginx.service                           its swappable block
    /services/nginx.service                                                one unit
    /api/services (the area's model, views/api.py)    /api/services/nginx.service

The view state is the processes table's (views/process_table.py ``TableState``: sort, order, q,
status, open, limit) with unit names as open rows, the active state as status, and a unit type;
``history_headers`` there is the same rule (push for sort and expand, replace for typing). Rows
come from the sampler's snapshot, sorted once per snapshot (``snap.memo``); a unit page reads its
cgroup's processes and the journal per request, bounded. Full scope only (views/auth.py denies by
default): unit names and their processes are what the console reads with its privileges.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Annotated, Literal
from urllib.parse import urlencode

import psutil
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from monitor import cgroups
from monitor.collectors.services import Services, Unit, find
from monitor.logs.filters import LogFilter
from monitor.logs.reader import SourceUnavailable, read_lines
from monitor.sampler import Snapshot

from .actions_units import unit_offer
from .api import ErrorMessage, Stamp
from .deps import LogSourcesDep, SnapshotDep, StoreDep
from .process_table import PAGE_LIMIT, TableState
from .templating import templates

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["services"])

SORTS = {"name": "asc", "state": "asc", "type": "asc", "cpu": "desc", "memory": "desc",
         "restarts": "desc", "since": "desc"}
COLUMNS = [("name", "Unit"), ("type", "Type"), ("state", "State"), (None, "Sub"), ("since", "Since"),
           (None, "Main PID"), ("restarts", "Restarts"), ("cpu", "CPU"), ("memory", "Memory"),
           (None, "Description")]
STATES = ["failed", "active", "activating", "deactivating", "reloading", "inactive"]
TYPES = ["service", "socket", "timer", "mount", "scope"]
MAX_OPEN, JOURNAL_LINES, PIDS_SHOWN = 20, 30, 100
# systemd's unit name characters (systemd.unit(5)); "-.mount" (the root mount) starts with "-".
UNIT_NAME = r"^[A-Za-z0-9_.\\-][A-Za-z0-9:_.@\\-]{0,254}$"
UNIT_NAME_RE = re.compile(UNIT_NAME)
UnitPath = Annotated[str, Path(max_length=256, pattern=UNIT_NAME, description="unit name")]


@dataclass(frozen=True)
class ServiceState(TableState):
    sort: str = "state"  # failed first
    order: str = "asc"
    kind: str | None = None  # unit type
    open: tuple[str, ...] = ()  # type: ignore[assignment]  # unit names

    def query(self) -> str:
        params: list[tuple[str, str]] = []
        if self.sort != "state" or self.order != SORTS[self.sort]:
            params += [("sort", self.sort), ("order", self.order)]
        params += [(k, v) for k, v in (("q", self.q), ("state", self.status), ("type", self.kind),
                                       ("open", ",".join(self.open))) if v]
        if self.limit != PAGE_LIMIT:
            params.append(("limit", str(self.limit)))
        return urlencode(params)

    def url(self, **change) -> str:
        q = replace(self, **change).query() if change else self.query()
        return "/services" + (f"?{q}" if q else "")

    def sort_link(self, key: str) -> tuple[str, str]:
        order = ("asc" if self.order == "desc" else "desc") if key == self.sort else SORTS[key]
        return order, self.url(sort=key, order=order)

    def toggled(self, name: str) -> ServiceState:  # type: ignore[override]
        if name in self.open:
            return replace(self, open=tuple(n for n in self.open if n != name))
        return replace(self, open=(*self.open, name)[-MAX_OPEN:])


def state_of(
    sort: Annotated[Literal[tuple(SORTS)], Query()] = "state",  # type: ignore[valid-type]
    order: Annotated[Literal["asc", "desc"] | None, Query()] = None,
    q: Annotated[str, Query(max_length=200, description="words in the name or description")] = "",
    state: Annotated[Literal[("", *STATES)] | None, Query()] = None,  # type: ignore[valid-type]
    type: Annotated[Literal[("", *TYPES)] | None, Query()] = None,  # type: ignore[valid-type]
    open: Annotated[str, Query(max_length=4000, pattern=r"^[A-Za-z0-9:_.@\\,-]*$")] = "",
    limit: Annotated[int, Query(ge=1, le=20_000)] = PAGE_LIMIT,
) -> ServiceState:
    names = [n for n in dict.fromkeys(open.split(",")) if n and UNIT_NAME_RE.fullmatch(n)]
    return ServiceState(sort=sort, order=order or SORTS[sort], q=q.strip(), status=state or None,
                        kind=type or None, open=tuple(names[-MAX_OPEN:]), limit=limit)


StateDep = Annotated[ServiceState, Depends(state_of)]


def services_of(snap: Snapshot) -> Services:
    data = snap.get("services")
    if data is None:
        why = snap.unavailable.get("services", "not collected yet")
        raise HTTPException(503, f"services are unavailable: {why}", headers={"Retry-After": "2"})
    return data  # type: ignore[return-value]


def _key(sort: str, desc: bool):
    """Sort key; for costs an unknown value sorts last in either order."""
    cost = {"cpu": "cpu_percent", "memory": "memory"}.get(sort)
    if cost:
        sign = -1 if desc else 1
        return lambda u: (getattr(u.costs, cost, None) is None, sign * (getattr(u.costs, cost, 0) or 0))
    return {"name": lambda u: u.name, "type": lambda u: (u.type, u.name),
            "state": lambda u: (STATES.index(u.active) if u.active in STATES else 99, u.name),
            "restarts": lambda u: u.restarts or 0, "since": lambda u: u.since or 0}[sort]


def select(snap: Snapshot, st: ServiceState) -> tuple[Services, list[Unit]]:
    data = services_of(snap)
    desc = st.order == "desc"
    rows = snap.memo(f"services:sorted:{st.sort}:{st.order}", lambda: sorted(
        data.units, key=_key(st.sort, desc), reverse=desc and st.sort not in ("cpu", "memory")))
    words = st.q.lower().split()
    return data, [u for u in rows if (not st.status or u.active == st.status)
                  and (not st.kind or u.type == st.kind)
                  and all(w in f"{u.name} {u.description}".lower() for w in words)]


def table_context(snap: Snapshot, st: ServiceState) -> dict:
    data, matched = select(snap, st)
    return {"snap": snap, "data": data, "state": st, "rows": matched[: st.limit],
            "matched": len(matched), "columns": COLUMNS, "states": STATES, "types": TYPES}


@router.get("/services", response_class=HTMLResponse)
def services_page(request: Request, snap: SnapshotDep, st: StateDep):
    return _table(request, snap, st)


def _table(request, snap, st, block: str | None = None, headers: dict | None = None):
    return templates.TemplateResponse(request, "pages/services.html", table_context(snap, st),
                                      headers=headers, block_name=block)


@router.get("/fragments/services", response_class=HTMLResponse)
def services_fragment(request: Request, snap: SnapshotDep, st: StateDep,
                      toggle: Annotated[str | None, Query(max_length=256, pattern=UNIT_NAME)] = None):
    before = st
    if toggle is not None:
        st = st.toggled(toggle)
    changed = (before.sort, before.order, before.open) != (st.sort, st.order, st.open) or toggle
    headers = {"HX-Push-Url": st.url()} if changed else {"HX-Replace-Url": st.url()}
    return _table(request, snap, st, "view", headers)


# -- one unit ----------------------------------------------------------------------------------

def unit_of(snap: Snapshot, name: str) -> Unit:
    u = find(services_of(snap), name)
    if u is None:
        raise HTTPException(404, f"no unit {name} is loaded (types shown: {', '.join(TYPES)})")
    return u


def processes_of(u: Unit, mode: str) -> list[dict]:
    """The unit's processes (its cgroup and below), with create_time for /processes links."""
    root = {"v2": cgroups.ROOT, "hybrid": cgroups.ROOT / "unified",
            "v1": cgroups.ROOT / "systemd"}.get(mode)
    out = []
    for pid in cgroups.pids(u.cgroup or "", root, PIDS_SHOWN) if root else []:
        try:
            p = psutil.Process(pid)
            out.append({"pid": pid, "name": p.name(), "started": p.create_time()})
        except psutil.Error:
            continue
    return out


def journal_of(sources: dict, name: str) -> tuple[list, str | None]:
    src = next((s for s in sources.values() if s.kind == "journal"), None)
    if src is None:
        return [], "no journal source is configured"
    try:
        return read_lines(src, JOURNAL_LINES, LogFilter.parse(unit=name)), None  # validated there
    except (SourceUnavailable, ValueError) as exc:
        return [], str(exc)


@router.get("/services/{unit}", response_class=HTMLResponse)
def service_page(request: Request, unit: UnitPath, snap: SnapshotDep, store: StoreDep,
                 sources: LogSourcesDep):
    u = unit_of(snap, unit)
    lines, why = journal_of(sources, u.name)
    return templates.TemplateResponse(request, "pages/service.html", {
        "u": u, "snap": snap, "data": services_of(snap), "history": store.history,
        "procs": processes_of(u, services_of(snap).cgroup), "lines": lines, "journal_error": why,
        "logs_url": "/logs?" + urlencode({"source": "journal", "unit": u.name}),
        "unit_offer": unit_offer(request, u.name)})


@router.get("/fragments/services/{unit}", response_class=HTMLResponse)
def service_fragment(request: Request, unit: UnitPath, snap: SnapshotDep, store: StoreDep):
    """The unit page's live block (state, resources, processes), polled by the page."""
    u = unit_of(snap, unit)
    return templates.TemplateResponse(request, "pages/service.html", {
        "u": u, "snap": snap, "data": services_of(snap), "history": store.history,
        "procs": processes_of(u, services_of(snap).cgroup)}, block_name="live")


class UnitResponse(Stamp):
    unit: Unit
    processes: list[dict]


@api_router.get("/services/{unit}", response_model=UnitResponse, summary="One systemd unit",
                responses={404: {"model": ErrorMessage}, 503: {"model": ErrorMessage}})
def api_service(unit: UnitPath, snap: SnapshotDep):
    u = unit_of(snap, unit)
    body = UnitResponse(seq=snap.seq, taken_at=snap.taken_at, unit=u,
                        processes=processes_of(u, services_of(snap).cgroup))
    return Response(body.model_dump_json(), media_type="application/json")
