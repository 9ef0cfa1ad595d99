"""Notifications over HTTP (monitor/notify/): their state, a test send, maintenance windows.

    GET  /api/notifications          channels (redacted), the last attempts and their results
    POST /api/notifications/test     a test message to every channel: the result per channel
    POST /api/maintenance?minutes=N  warnings held for N minutes (0 ends it); &hold_critical=true
                                     holds critical too
    GET  /notifications              the page: channels, attempts, the test button, maintenance

All of it is full scope (views/auth.py denies by default); the POSTs also pass the CSRF guard
(views/security.py SameOriginWrites: a cross-site browser write is refused). A URL is only ever
shown redacted (scheme and host); attempt errors are scrubbed of every part of their URL.
The health banner's note (maintenance, failing channels) is ``notify_note`` below, and /metrics
gets ``server_monitor_notifications_{sent,failed,dropped}_total`` from ``NotifyCollector``.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import BaseModel, Field

from monitor.notify import live_notifiers, notifier_of

from .templating import env, templates

if TYPE_CHECKING:
    from fastapi import FastAPI
    from prometheus_client.core import Metric

    from monitor.notify.dispatcher import Notifier

router = APIRouter(tags=["notifications"])
MAINTENANCE_MAX = 7 * 24 * 60  # minutes: a week


class ChannelStatus(BaseModel):
    index: int
    name: str = Field(description="its name, or its URL redacted (scheme and host)")
    level: Literal["warning", "critical"] = Field(description="the lowest state it receives")
    checks: list[str] = Field(description="its check filter; empty: every check")
    state: Literal["idle", "ok", "failing", "invalid"] = Field(
        description="idle: nothing sent yet; failing: the last message was given up; invalid: "
                    "Apprise cannot use the URL")
    queued: int
    dropped: int = Field(description="messages dropped from its full queue")
    sent: int
    failed: int = Field(description="messages given up after every retry")
    failing_since: float | None
    last_ok: float | None
    last_error: str | None = Field(description="why the last attempt failed (no secret in it)")
    open: list[str] = Field(description="what it was told and is still open (check[:subject])")
    held: list[str] = Field(description="what a maintenance window holds back from it")


class AttemptRecord(BaseModel):
    at: float
    channel: str
    subject: str
    attempt: int = Field(description="1 for the first try, then each retry")
    ok: bool
    error: str | None
    seconds: float
    test: bool


class MaintenanceWindow(BaseModel):
    until: float
    hold_critical: bool
    why: str


class Heartbeat(BaseModel):
    url: str = Field(description="redacted")
    every: float
    last_at: float | None
    last_error: str | None
    ok: int
    failed: int


class NotificationStatus(BaseModel):
    enabled: bool = Field(description="a channel or a heartbeat is configured")
    channels: list[ChannelStatus]
    attempts: list[AttemptRecord] = Field(description="the last 50, newest first")
    maintenance: MaintenanceWindow | None
    heartbeat: Heartbeat | None
    remind_every: float


class SendResult(BaseModel):
    channel: str
    ok: bool
    error: str | None


class SendResults(BaseModel):
    results: list[SendResult]


class MaintenanceAnswer(BaseModel):
    maintenance: MaintenanceWindow | None


def notifier(app: FastAPI) -> Notifier:
    """The app's one notifier. views.install builds it at start only when notifications are
    configured (main.py's lifespan then starts its tasks); otherwise the dispatcher is imported
    when the page or the API first asks (issue 19): that notifier has nothing to send and no
    task, but keeps a maintenance window an operator sets before adding a channel."""
    if app.state.notifier is None:
        from monitor.notify.dispatcher import Notifier
        judge = app.state.judge
        app.state.notifier = Notifier(app.state.settings.notify, app.state.store,
                                      judge.events if judge is not None else None)
    return app.state.notifier


def get_notifier(request: Request) -> Notifier:
    return notifier(request.app)


# The routes are async on purpose: the notifier's queues and records are changed on the event loop,
# so they are read there too (a worker thread iterating a deque being appended to would raise).
@router.get("/api/notifications", response_model=NotificationStatus,
            summary="Notification channels, the last attempts and their results")
async def notifications(request: Request):
    return get_notifier(request).status()


@router.post("/api/notifications/test", response_model=SendResults,
             summary="Send a test message to every channel (one attempt each)",
             responses={200: {"content": {"text/html": {}}}, 409: {"description": "a test is being sent already"}})
async def send_test(request: Request):
    n = get_notifier(request)
    done = await n.test()
    if done is None:
        raise HTTPException(409, "a test message is being sent already; try again when it is done")
    results = [{"channel": label, "ok": error is None, "error": error} for label, error in done]
    if request.headers.get("hx-request") or "text/html" in request.headers.get("accept", ""):
        return templates.TemplateResponse(request, "cards/notifications_test.html",
                                          {"results": results, "channels": len(n.routes)})
    return {"results": results}


@router.post("/api/maintenance", response_model=MaintenanceAnswer,
             responses={200: {"content": {"text/html": {}}}},
             summary="Hold warnings (and optionally critical) for N minutes; 0 ends it")
async def maintenance(request: Request,
                minutes: Annotated[int, Query(ge=0, le=MAINTENANCE_MAX, description="0 ends the window")],
                hold_critical: Annotated[bool, Query(description="hold critical messages too")] = False):
    n = get_notifier(request)
    who = request.client.host if request.client else ""
    n.maintenance.set(time.time(), minutes, hold_critical, who)
    status = n.status()["maintenance"]
    if request.headers.get("hx-request"):
        return templates.TemplateResponse(request, "cards/notifications_maintenance.html",
                                          {"maintenance": status})
    return {"maintenance": status}


@router.get("/notifications", response_class=HTMLResponse, summary="Notifications: channels, attempts, test send")
async def page(request: Request):
    n = get_notifier(request)
    return templates.TemplateResponse(request, "cards/notifications_page.html",
                                      {"status": n.status(), "system": None})


# --- the health banner's note --------------------------------------------------------------
def notify_note(snap, full: bool = False) -> Markup:
    """``{{ notify_note(snap, full) }}`` in partials/health.html: maintenance, failing channels."""
    n = next((x for x in live_notifiers() if x.knows(snap)), None)
    if n is None:
        return Markup("")
    window = n.window(snap.taken_at)
    failing = n.failing()
    if window is None and not failing:
        return Markup("")
    return Markup(env.get_template("cards/notifications_note.html").render(
        window=window, failing=failing, full=full))


env.globals.setdefault("notify_note", notify_note)  # views/templating.py: looked up at render


# --- /metrics ------------------------------------------------------------------------------
class NotifyCollector:
    """Counters per channel (labelled with its name or redacted URL), only when any is configured."""

    def __init__(self, store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        from .exporters import counter, gauge  # at scrape time: views/metrics.py
        n = notifier_of(self.store)
        if n is None or not n.routes:
            return
        rows = [((r.label,), r) for r in n.routes]
        for fam in (
            counter("server_monitor_notifications_sent", "Messages delivered, per channel.",
                    ("channel",), [(k, r.sent) for k, r in rows]),
            counter("server_monitor_notifications_failed", "Messages given up after every retry, "
                    "per channel.", ("channel",), [(k, r.failed) for k, r in rows]),
            counter("server_monitor_notifications_dropped", "Messages dropped from a full queue, "
                    "per channel.", ("channel",), [(k, r.dropped) for k, r in rows]),
            gauge("server_monitor_notifications_queued", "Messages waiting, per channel.",
                  ("channel",), [(k, len(r.queue)) for k, r in rows]),
        ):
            if fam is not None:
                yield fam
