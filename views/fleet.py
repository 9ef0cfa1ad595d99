"""/fleet: every console the operator's Prometheus scrapes, live. Full scope only (views/auth.py:
it shows other hosts' problems), and only with ``prometheus_url`` set; without it the page says
how to set it.

    SERVER_MONITOR_PROMETHEUS_URL=http://127.0.0.1:9090 python main.py

The page is rendered complete once (the latest answer if fresh, else one poll); ``/fleet/stream``
then pushes ``event: fleet`` with the whole list each time the shared poller
(monitor/fleet_poll.py) gets an answer, every ``fleet_interval`` seconds while anyone watches.
Each answer's HTML and SSE bytes are made once (memoised on the ``Fleet``), whoever watches.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from .deps import SettingsDep
from .stream import RETRY, SEND_TIMEOUT, SHUTDOWN_GRACE, StreamResponse, sse_event
from .templating import env, templates

if TYPE_CHECKING:  # imported by make_poller, only with prometheus_url set (issue 19)
    from monitor.fleet import Fleet
    from monitor.fleet_poll import FleetPoller
    from monitor.settings import Settings

router = APIRouter(include_in_schema=False)
WAKE = 1.0  # seconds: how often a waiting stream looks whether the server is stopping
NOT_CONFIGURED = ("the fleet view is off: set prometheus_url (SERVER_MONITOR_PROMETHEUS_URL) "
                  "to the Prometheus that scrapes your consoles")


def make_poller(settings: Settings) -> FleetPoller | None:
    """The one poller of this app (views.install puts it in app.state.fleet); None: no fleet."""
    if settings.prometheus_url is None:
        return None
    from monitor.fleet_poll import FleetPoller, Prometheus
    return FleetPoller(Prometheus(settings.prometheus_url).fleet, settings.fleet_interval)


def get_fleet(request: Request) -> FleetPoller | None:
    return getattr(request.app.state, "fleet", None)


# FleetPoller | None: FastAPI reads this at import, before monitor.fleet_poll is (or is not) imported
FleetDep = Annotated[object, Depends(get_fleet)]


def shown_url(url: str | None) -> str:
    """Prometheus' address as the page shows it: never a user name or password in it.

    >>> shown_url("https://admin:s3cret@prom.example:9090/prometheus/")
    'https://prom.example:9090/prometheus/'
    """
    if not url:
        return ""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def fleet_context(request: Request) -> dict:
    """Context processor: base.html shows the Fleet link when a fleet is configured."""
    return {"fleet_nav": get_fleet(request) is not None}


templates.context_processors.append(fleet_context)


def render_fleet(fleet: Fleet, prometheus: str) -> Markup:
    """The list (partials/fleet.html), rendered once per answer."""
    return fleet.memo("html", lambda: Markup(env.get_template("cards/fleet.html").render(
        fleet=fleet, prometheus=prometheus)))


def encoded(fleet: Fleet, prometheus: str) -> bytes:
    return fleet.memo("sse", lambda: sse_event("fleet", str(render_fleet(fleet, prometheus)),
                                                id=str(fleet.seq)))


@router.get("/fleet", response_class=HTMLResponse)
async def fleet_page(request: Request, poller: FleetDep, settings: SettingsDep):
    if poller is None:
        return templates.TemplateResponse(request, "pages/fleet.html", {"configured": False})
    fleet = await poller.current()
    prometheus = shown_url(settings.prometheus_url)
    return templates.TemplateResponse(request, "pages/fleet.html", {
        "configured": True, "fleet": fleet, "fleet_html": render_fleet(fleet, prometheus),
        "prometheus": prometheus})


async def _events(poller: FleetPoller, prometheus: str, shutdown: anyio.Event) -> AsyncIterator[bytes]:
    yield RETRY
    seq = -1
    async with poller.watching():
        while not shutdown.is_set():
            fleet = await poller.wait_newer(seq, timeout=WAKE)
            if fleet is not None and not shutdown.is_set():
                seq = fleet.seq
                yield encoded(fleet, prometheus)


@router.get("/fleet/stream")
async def fleet_stream(poller: FleetDep, settings: SettingsDep) -> StreamResponse:
    """Each poll's list as ``event: fleet``; the first one at once (a reconnect is current)."""
    if poller is None:
        raise HTTPException(404, NOT_CONFIGURED)
    shutdown = anyio.Event()
    return StreamResponse(_events(poller, shown_url(settings.prometheus_url), shutdown),
                          send_timeout=SEND_TIMEOUT, ping=15, shutdown_event=shutdown,
                          shutdown_grace_period=SHUTDOWN_GRACE)
