"""The console's judgment over HTTP: /api/health, /api/events, /api/alert-rules, the health banner.

    $ curl -si 127.0.0.1:8000/api/health?format=text
    HTTP/1.1 503 Service Unavailable
    critical: 2 of 31 checks not ok (sample 812 at 14:03:07)
    CRITICAL disks_percent /var: /var is 96 % full (critical at 95 %), full in about 2 h (since 13:58:40)
    WARNING  cpu_percent: CPU is 93 % busy (warning at 90 %) (since 14:01:55) top: python3 (4121) 88 %

HTTP status: 200 when ok or warning, 503 when critical or unknown, so an uptime checker or a load
balancer can use the answer as is (``health_status_warning`` / ``_critical`` / ``_unknown`` change
that). Unknown means the console cannot vouch for the host: judging failed or overran this tick
(``reason`` says why), or a check could not be judged (its verdict says why); never "all ok".
``/api/alert-rules`` renders the same thresholds as Prometheus alerting rules over the
``server_monitor_check_value`` series of /metrics (monitor/alert_rules.py), so a Prometheus
scraping many consoles judges each one the way the console itself does
(``python -m monitor.alert_rules`` prints the defaults, which are deploy/alert-rules.yml).
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, Field

from monitor import alert_rules
from monitor.events import Event
from monitor.health import SEVERITY, Verdict, state, unknown_reason
from monitor.wording import fmt
from monitor.thresholds import CHECKS

from .cards import DISPLAY, FULL, scope_of
from .deps import EventsDep, SettingsDep, SnapshotDep, events_of
from .format import clock
from .templating import render

router = APIRouter(prefix="/api", tags=["health"])


class HealthReport(BaseModel):
    status: Literal["ok", "warning", "critical", "unknown"] = Field(
        description="the worst verdict (critical > unknown > warning > ok); unknown also when "
                    "judging failed")
    reason: str | None = Field(None, description="why the status is unknown; null otherwise")
    seq: int
    taken_at: float
    checks: int = Field(description="how many checks this sample has a verdict for (unknown included)")
    verdicts: list[Verdict] = Field(description="every check that is not ok, worst first")
    unavailable: dict[str, str] = Field(description="areas that could not be collected, and why")
    pending: list[Pending] = Field(default_factory=list, description="values past a level but still "
                                   "inside its hold: what is coming if they stay (status unchanged)")


class Pending(BaseModel):
    check: str
    area: str
    subject: str = ""
    level: Literal["warning", "critical"] = Field(description="the state it will reach if it stays")
    in_seconds: float = Field(description="seconds left of the hold if the value stays past the level")
    value: float | None
    reason: str = Field(description='e.g. "cpu_percent critical in 40 s if it stays"')


def pending_of(verdicts) -> list[Pending]:
    """Values past a level but inside its hold: the soonest first (the verdicts stay as they are)."""
    out = [Pending(check=v.check, area=v.area, subject=v.subject, level=v.pending,
                   in_seconds=v.pending_in, value=v.value, reason=pending_text(v))
           for v in verdicts if getattr(v, "pending", None) and v.pending_in is not None]
    return sorted(out, key=lambda p: (p.level != "critical", p.in_seconds))


def pending_text(v) -> str:
    """ "cpu_percent critical in 40 s if it stays" """
    who = f"{v.check} {v.subject}" if v.subject else v.check
    return f"{who} {v.pending} in {fmt(max(1.0, v.pending_in), 's')} if it stays"


class EventList(BaseModel):
    events: list[Event] = Field(description="newest first; an open event has end = null")


def problems(verdicts) -> list[Verdict]:
    """Non-ok verdicts, critical first (then unknown, warning), then the longest-standing."""
    bad = [v for v in verdicts if v.state != "ok"]
    return sorted(bad, key=lambda v: (-SEVERITY[v.state], v.since))


def scoped(verdicts: list[Verdict], scope: str) -> list[Verdict]:
    """The display scope never gets command lines: its culprits keep pid, started, name, unit."""
    if scope == FULL:
        return verdicts
    return [v.model_copy(update={"top": [p.model_copy(update={"command": None}) for p in v.top]})
            if any(p.command for p in v.top) else v for v in verdicts]


def listed(snap) -> list[Verdict]:
    """The problems to list one by one: the unknown verdicts of an unreadable area are told once,
    as that area's line (one cause, one line), not once per check."""
    return [v for v in problems(snap.verdicts)
            if not (v.state == "unknown" and v.area in snap.unavailable)]


def headline(snap) -> str:
    """ "critical: 2 of 31 checks not ok"; "unknown: not judged: ..." — never "all 0 checks ok"
    for a sample that was not judged."""
    st, n = state(snap), len(snap.verdicts)
    if snap.judge_error:
        return f"{st}: not judged: {snap.judge_error}"
    bad = sum(1 for v in snap.verdicts if v.state != "ok")
    return f"{st}: all {n} checks ok" if not bad else f"{st}: {bad} of {n} checks not ok"


def text_lines(snap) -> list[str]:
    lines = [f"{headline(snap)} (sample {snap.seq} at {clock(snap.taken_at)})"]
    for v in listed(snap):
        who = f"{v.check} {v.subject}" if v.subject else v.check
        top = ", ".join(f"{p.name} ({p.pid})" for p in v.top)
        lines.append(f"{v.state.upper():8} {who}: {v.reason} (since {clock(v.since)})"
                     + (f" top: {top}" if top else ""))
    for p in pending_of(snap.verdicts):
        lines.append(f"{'PENDING':8} {p.reason}")
    for area, why in snap.unavailable.items():
        n = sum(1 for v in snap.verdicts if v.area == area and v.state == "unknown")
        judged = f" ({n} check{'' if n == 1 else 's'} cannot be judged)" if n else ""
        lines.append(f"{'UNKNOWN':8} {area}: could not be read: {why}{judged}")
    return lines


def _wants_text(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "text"
    accept = request.headers.get("accept", "")
    return "text/plain" in accept and "application/json" not in accept


@router.get(
    "/health", response_model=HealthReport,
    summary="Overall state and every non-ok verdict with its reason",
    description="HTTP 200 when ok or warning, 503 when critical or unknown (configurable: "
                "SERVER_MONITOR_HEALTH_STATUS_WARNING / _CRITICAL / _UNKNOWN). Unknown: judging "
                "failed (`reason`) or a check could not be judged (its verdict's `reason`). "
                "`?format=text` or `Accept: text/plain` gives one line per verdict.",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
               503: {"description": "critical or unknown (same body)",
                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HealthReport"}},
                                 "text/plain": {"schema": {"type": "string"}}}}},
)
def health(request: Request, snap: SnapshotDep, settings: SettingsDep,
           format: Annotated[Literal["json", "text"] | None,
                             Query(description="json (default) or text: one line per verdict")] = None):
    st = state(snap)
    status = {"ok": 200, "warning": settings.health_status_warning,
              "critical": settings.health_status_critical, "unknown": settings.health_status_unknown}[st]
    if _wants_text(request, format):
        body = snap.memo("health:text", lambda: "\n".join(text_lines(snap)) + "\n")
        return PlainTextResponse(body, status_code=status)
    scope = scope_of(request)
    body = snap.memo(f"health:json:{scope}", lambda: HealthReport(
        status=st, reason=unknown_reason(snap), seq=snap.seq, taken_at=snap.taken_at,
        checks=len(snap.verdicts),
        verdicts=scoped(problems(snap.verdicts), scope), unavailable=dict(snap.unavailable),
        pending=pending_of(snap.verdicts),
    ).model_dump_json().encode())
    return Response(body, status_code=status, media_type="application/json")


@router.get("/events", response_model=EventList, summary="State changes: start, end, peak, top processes")
def events(log: EventsDep,
           limit: Annotated[int, Query(ge=1, le=1000, description="how many, newest first")] = 50):
    return EventList(events=log.recent(limit) if log is not None else [])


@router.get("/alert-rules", response_class=PlainTextResponse,
            summary="The configured thresholds as Prometheus alerting rules (YAML)",
            responses={200: {"content": {"application/yaml": {}}}})
def alert_rules_route(settings: SettingsDep) -> Response:
    return Response(alert_rules.render(settings.thresholds), media_type="application/yaml; charset=utf-8")


# --- the banner at the top of the dashboard and /wall ----------------------------------------
def health_card(request: Request, snap) -> Markup:
    """The overall state, the reasons and the last events (partials/health.html), once per snapshot."""
    # Nothing to click on /wall: its banner, like its cards and its stream (views/pages.py), is
    # rendered as the display scope's (no links, no command lines) whoever looks at it.
    scope = DISPLAY if request.url.path.rstrip("/") == "/wall" else scope_of(request)
    return render_health(snap, events_of(request), scope)


def render_health(snap, event_log=None, scope: str = DISPLAY) -> Markup:
    """Once per snapshot and scope (views/cards.py): the display rendering has no links."""
    return snap.memo(f"card:health:{scope}", lambda: Markup(render(
        "cards/health.html", health_context(snap, event_log, scope))))


def health_context(snap, event_log=None, scope: str = DISPLAY) -> dict:
    """What partials/health.html shows, for one scope."""
    return dict(snap=snap, full=scope == FULL, state=state(snap), headline=headline(snap),
                problems=scoped(listed(snap), scope), judge_error=snap.judge_error, pending=pending_of(snap.verdicts),
                bad=sum(1 for v in snap.verdicts if v.state != "ok"),
                unknown_reason=unknown_reason(snap), checks=len(snap.verdicts),
                unavailable=snap.unavailable, events=banner_events(snap.taken_at, event_log))


BANNER_EVENTS = 3  # the banner is for "what is happening"; /api/events has the whole story
BANNER_EVENT_AGE = 3600.0  # an episode that ended over an hour ago is history, not news


def banner_events(now: float, event_log=None) -> list:
    """Open events first, then those that ended within the hour, newest first (at most three):
    a long-open episode is what is happening, however many short ones came after it."""
    if event_log is None:
        return []
    # open_events(), not recent(): an episode open for days is older than the last 50 events
    still_open = sorted(event_log.open_events(), key=lambda e: e.start, reverse=True)
    # Episodes only: an action's audit record and a notification channel's record (point events,
    # EventLog.audit/note) are in /api/events (full scope); the banner has its own channel note.
    ended = [e for e in event_log.recent(50) if e.end is not None and now - e.end < BANNER_EVENT_AGE
             and e.audit is None and e.area != "notifications"]
    return (still_open + ended)[:BANNER_EVENTS]


def limits(snap, check: str, subject: str = "") -> str:
    """A card value's thresholds for its title= (hover/focus): "warning at 90 %, critical at 98 %".
    Worded once per snapshot for every verdict (the cards ask six times a tick, and each asking
    walked every verdict); the first verdict of a (check, subject) is the one worded."""
    return snap.memo("limits", lambda: _all_limits(snap.verdicts)).get((check, subject), "")


def _all_limits(verdicts) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for v in verdicts:
        if (v.check, v.subject) not in out and v.check in CHECKS:
            word = "at" if CHECKS[v.check][0].direction == "above" else "under"
            parts = [f"{lvl} {word} {fmt(x, v.unit)}" for lvl, x in
                     (("warning", v.warning), ("critical", v.critical)) if x is not None]
            out[(v.check, v.subject)] = f"{v.state}: " + ", ".join(parts)
    return out
