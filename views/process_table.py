"""The process table's view state: sort, order, filter, status, open rows and row limit, all of
it in the page URL (``TableState``), parsed once for the page, its fragment and the API.

    /processes?sort=memory&order=desc&q=postgres&status=sleeping&open=912,4121&limit=200
    /processes?density=compact          # about 45 rows at 1080p instead of about 25

``history_headers`` tells htmx which URL the new view has: pushed when the sort or the open rows
changed (the back button undoes it), replaced when only the filter changed (no history entry per
keystroke), nothing for a plain poll.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Depends, Query

from monitor.process_rows import DEFAULT_ORDER, Order, SortKey, StatusFilter

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
Density = Literal["comfortable", "compact"]


@dataclass(frozen=True)
class TableState:
    sort: str = "cpu"
    order: str = "desc"
    q: str = ""
    status: str | None = None
    open: tuple[int, ...] = ()  # expanded rows, in the order they were opened
    limit: int = PAGE_LIMIT
    density: str = "comfortable"  # compact: smaller rows, 30+ at 1080p (static/processes.css)

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
        if self.density != "comfortable":
            params.append(("density", self.density))
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
    density: Annotated[Density, Query(description="row height: compact fits more rows")] = "comfortable",
) -> TableState:
    """The page's whole view: sort and filters plus the open rows, how many rows and how dense."""
    return replace(base, open=parse_open(open), limit=limit, density=density)


StateDep = Annotated[TableState, Depends(table_state)]
FiltersDep = Annotated[TableState, Depends(view_filters)]


def history_headers(current_url: str | None, state: TableState) -> dict[str, str]:
    """HX-Push-Url when the sort or the open rows changed (back button undoes it), HX-Replace-Url
    when only the filter changed (no history entry per keystroke), nothing for a plain poll."""
    new = state.url()
    old = _state_of_url(current_url)
    if old is not None and old.url() == new:
        return {}
    if old is not None and (old.sort, old.order, old.open, old.density) == (
            state.sort, state.order, state.open, state.density):
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
        density = params.get("density", "comfortable")
        return replace(base, open=parse_open(params.get("open", "")),
                       limit=int(params.get("limit", PAGE_LIMIT)),
                       density=density if density in ("comfortable", "compact") else "comfortable")
    except (KeyError, ValueError):
        return None
