"""A log request's parameters, every one checked before anything is read: ``LogQuery``.

    def page(query: QueryDep): ...        # /logs, /fragments/logs, /logs/stream (source optional)
    def api(query: ApiQueryDep): ...      # /api/logs (source required)

Unknown or path-looking source names, a bad regex, out-of-range lines, malformed times and unit
names are answered with a 4xx that says what was wrong. Paths and commands come from settings only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from annotated_types import Le
from fastapi import Depends, HTTPException, Query

from monitor.logs.filters import UNIT_RE, FilterError, LogFilter
from monitor.logs.lines import LEVELS
from monitor.logs.regex_guard import CheckerUnavailable
from monitor.logs.sources import NAME_PATTERN, NAME_RE, LogSource, status
from monitor.settings import Settings

from .deps import LogSourcesDep, SettingsDep

TEXT_MAX = 300  # longest raw parameter accepted (the filters have their own, tighter bounds)
# The schema's bound for `lines` is the largest SERVER_MONITOR_LOG_LINES_MAX allowed; the
# configured one (5000 by default) is checked per request, with a 422 naming it.
LINES_CAP = next(m.le for m in Settings.model_fields["log_lines_max"].metadata if isinstance(m, Le))


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


SourceParam = Annotated[str | None, Query(description="a configured source name; default: the "
                                                   "first readable one", **_SOURCE)]


def resolve_query(settings: SettingsDep, sources: LogSourcesDep, *, source: SourceParam = None,
                  params: ParamsDep) -> LogQuery:
    """The page's parameters: without a source it opens the first readable one."""
    if not source:
        if params.unit:
            source = "journal"  # /logs?unit=x from a process page
        else:
            source = next((n for n, s in sources.items() if status(s).available), next(iter(sources), ""))
    return _resolve(settings, sources, source, params)


def resolve_api_query(
    settings: SettingsDep, sources: LogSourcesDep,
    source: Annotated[str, Query(description="a configured source name (see /api/logs/sources)", **_SOURCE)],
    params: ParamsDep,
) -> LogQuery:
    if not source:
        raise HTTPException(422, "source: required; see /api/logs/sources")
    return _resolve(settings, sources, source, params)


def _resolve(settings: Settings, sources: dict[str, LogSource], source: str, p: FilterParams) -> LogQuery:
    """Every check, before anything is read. Runs in a worker thread (the dependencies are plain
    ``def``): a regex is checked by a helper process, which may take up to half a second."""
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
