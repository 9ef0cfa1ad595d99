"""History pages: /history (charts over a range) and /history/at/{t} (a moment).

    /history?range=24h                  15m 1h 6h 24h 7d 30d (default 24h)
    /history?since=2026-12-01T02:00&until=2026-12-01T04:00     custom, in the page's zone
    /history?area=cpu                   every series of one area (each card's title links here)
    /history?metric=disks./.percent     one series
    ...&tz=Europe/Berlin                the zone times are shown in (default: the host's)

/history is in the display scope (numbers and check names, no command lines, no log text, no
links to full-scope pages); /history/at/{t} is full scope only (views/auth.py). Bad values are a
422 page that says what was wrong.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import quote
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from monitor.history.moment import AROUND, moment
from monitor.history.query import RING, Range, RangeError, buckets, nice_step, source_for
from monitor.history.db import HistoryUnavailable
from monitor.logs.filters import FilterError, parse_time

from .cards import FULL, scope_of
from .deps import EventsDep, SettingsDep, SnapshotDep, StoreDep
from .history import db_note, history_db, parse_moment
from .history_charts import chart, fmt, local, unit_of
from .templating import templates

router = APIRouter(include_in_schema=False)
RANGES = {"15m": 900, "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
OVERVIEW = ("cpu.percent", "memory.percent", "disks.busy_percent", "disks./.percent",
            "network.bytes_recv_per_s", "network.bytes_sent_per_s", "pressure.cpu.some",
            "pressure.memory.some", "pressure.io.some", "logs.errors_per_minute")
CHARTS_MAX = 24
POINTS = 240  # buckets per chart: a point every 4 px of the plot
ZONE_RE = re.compile(r"^[A-Za-z0-9_+\-]{1,32}(/[A-Za-z0-9_+\-]{1,32}){0,2}$")
AREA_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def zone(tz: str | None) -> ZoneInfo | None:
    if tz is None:
        return None
    try:
        if not ZONE_RE.match(tz):
            raise ValueError
        return ZoneInfo(tz)
    except (ValueError, OSError, KeyError):
        raise HTTPException(422, f"tz: {tz[:40]!r} is not a time zone name (e.g. Europe/Berlin, UTC)") from None


def page_time(value: str, name: str, tz: ZoneInfo | None) -> float:
    """A custom from/to: the form's datetime-local (no zone: the page's zone), RFC 3339, epoch."""
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        naive = None
    if naive is not None and naive.tzinfo is None:
        zone_ = tz or dt.datetime.now().astimezone().tzinfo
        try:
            return naive.replace(tzinfo=zone_).timestamp()
        except (OverflowError, OSError, ValueError):
            raise HTTPException(422, f"{name}: {value[:40]!r} is out of range") from None
    try:
        return parse_time(value, name)
    except FilterError as exc:
        raise HTTPException(422, str(exc)) from None


def chosen_range(range_: str | None, since: str | None, until: str | None, tz) -> tuple[Range, str]:
    now = time.time()
    if since or until:
        if range_:
            raise HTTPException(422, "range: give either range or since/until, not both")
        t1 = page_time(until, "until", tz) if until else now
        t0 = page_time(since, "since", tz) if since else t1 - 3600
        if t1 <= t0:
            raise HTTPException(422, "until: must be after since")
        if t1 - t0 < 60:
            raise HTTPException(422, "since/until: a range of at least a minute")
        if t0 < now - 3660 * 86400 or t1 > now + 366 * 86400:
            raise HTTPException(422, "since/until: times between ten years ago and a year ahead")
        return Range(t0, t1, nice_step((t1 - t0) / POINTS)), "custom"
    key = range_ or "24h"
    t0 = now - RANGES[key]
    return Range(t0, now, nice_step(RANGES[key] / POINTS)), key


@router.get("/history", response_class=HTMLResponse)
def history_page(
    request: Request, store: StoreDep, snap: SnapshotDep, settings: SettingsDep, events: EventsDep,
    range_: Annotated[Literal["15m", "1h", "6h", "24h", "7d", "30d"] | None, Query(alias="range")] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    area: Annotated[str | None, Query(max_length=32)] = None,
    metric: Annotated[str | None, Query(max_length=200)] = None,
    tz: Annotated[str | None, Query(max_length=70)] = None,
):
    zone_ = zone(tz)
    rng, chosen = chosen_range(range_, since, until, zone_)
    db = history_db(request)
    try:
        stored = set(db.names()) if db is not None and db.ready else set()
    except HistoryUnavailable:
        stored = set()
    names = set(store.history.names()) | stored
    if area is not None and not AREA_RE.match(area):
        raise HTTPException(422, "area: an area word such as cpu, memory, disks")
    if metric is not None:
        if metric not in names:
            raise HTTPException(404, f"no history for metric {metric!r}")
        shown = [metric]
    elif area is not None:
        shown = sorted(n for n in names if n.startswith(area + "."))[:CHARTS_MAX]
    else:
        shown = [n for n in OVERVIEW if n in names]
    evs = [e.model_dump() for e in events.recent(events.keep)] if events is not None else []
    source = source_for(rng, settings.history_seconds, rng.until)
    gap = 2.5 * max(rng.step, 60 if source != RING else settings.tick)
    charts, note = [], db_note(db)
    for name in shown:
        try:
            _, found = buckets(store.history, db, name, rng, settings.history_seconds)
        except (HistoryUnavailable, RangeError) as exc:
            found, note = [], str(exc)
        mine = [e for e in evs if e["area"] == name.split(".", 1)[0] or e["check"] == "system_reboot"]
        charts.append({"name": name, "unit": unit_of(name),
                       "svg": chart(name, found, rng.since, rng.until, rng.step, mine, zone_, gap)})
    full = scope_of(request) == FULL
    return templates.TemplateResponse(request, "pages/history.html", {
        "system": snap.get("system"), "charts": charts, "rng": rng, "chosen": chosen,
        "ranges": list(RANGES), "area": area, "metric": metric, "tz": tz, "full": full,
        "zone_label": local(rng.until, zone_, "%Z (UTC%z)"), "source": source, "note": note,
        "since_input": local(rng.since, zone_, "%Y-%m-%dT%H:%M"),
        "until_input": local(rng.until, zone_, "%Y-%m-%dT%H:%M"),
        "since_text": local(rng.since, zone_), "until_text": local(rng.until, zone_),
        "events": [dict(e, start_text=local(e["start"], zone_),
                        end_text=local(e["end"], zone_) if e["end"] is not None else "open")
                   for e in evs if e["start"] <= rng.until and (e["end"] is None or e["end"] >= rng.since)],
        "dropped": db.dropped_names(20) if db is not None else [],
        "series_max": settings.history_series_max,
    })


@router.get("/history/at/{t}", response_class=HTMLResponse)
def moment_page(request: Request, t: str, snap: SnapshotDep, events: EventsDep,
                tz: Annotated[str | None, Query(max_length=70)] = None,
                when_: Annotated[str | None, Query(alias="when", max_length=40)] = None,
                peak: Annotated[str | None, Query(max_length=200)] = None,
                within: Annotated[int | None, Query(ge=60, le=31 * 86400)] = None):
    zone_ = zone(tz)
    db = history_db(request)
    if peak is not None and within is not None and db is not None and db.ready:
        # A chart point covers (t - within, t]: open the minute where its series peaked.
        end = parse_moment(t)
        try:
            top = db.peak_minute(peak, int((end - within) // 60) + 1, int(end // 60))
        except HistoryUnavailable:
            top = None
        if top is not None:
            return RedirectResponse(f"/history/at/{top * 60}" + (f"?tz={quote(tz)}" if tz else ""), 303)
    if when_ is not None:  # the page's "a moment" form (a datetime-local in the page's zone)
        target = f"/history/at/{int(page_time(when_, 'when', zone_))}" + (f"?tz={quote(tz)}" if tz else "")
        return RedirectResponse(target, status_code=303)
    when = parse_moment(t)
    if db is None or not db.ready:
        raise HTTPException(503, db_note(db) or "", headers={"Retry-After": "5"})
    try:
        m = moment(db, events, when)
    except HistoryUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None
    m0 = m.minute
    return templates.TemplateResponse(request, "pages/history_at.html", {
        "system": snap.get("system"), "m": m, "tz": tz,
        "when": local(m0, zone_, "%Y-%m-%d %H:%M %Z (UTC%z)"),
        "text": lambda t_: local(t_, zone_) if t_ is not None else "open",
        "fmt": lambda v, name: fmt(v, unit_of(name)),
        "around_since": int(m0 - AROUND * 60), "around_until": int(m0 + (AROUND + 1) * 60),
        "links": {label: int(m0 + d) for label, d in
                  (("−5 min", -300), ("−1 min", -60), ("+1 min", 60), ("+5 min", 300))},
        "history_since": local(m0 - 3600, zone_, "%Y-%m-%dT%H:%M"),
        "history_until": local(m0 + 3600, zone_, "%Y-%m-%dT%H:%M"),
    })
