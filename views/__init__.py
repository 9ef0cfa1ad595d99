"""HTTP: thin FastAPI routers over the sampler's Store. Nothing here calls psutil for shared views.

``install(app, ...)`` puts every view on the app: what the views read (through views/deps.py,
never ``app.state`` directly), the middleware stack, the error pages, the routers and /static.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `import views.cards` must not import the whole console
    from fastapi import FastAPI

    from monitor.collectors.base import Collector
    from monitor.health import Judge
    from monitor.logs.follow import LogHub
    from monitor.sampler import Store
    from monitor.settings import Settings

STATIC = Path(__file__).resolve().parent.parent / "static"


def install(app: FastAPI, settings: Settings, store: Store, judge: Judge, logs: LogHub,
            collectors: Sequence[Collector]) -> None:
    """Wire the views to what they read, then add the middleware and routers."""
    from . import auth, credentials  # here: views/auth.py imports views.errors, then templating

    # Where views/deps.py's getters look (StoreDep, JudgeDep, AreasDep, LogHubDep, ...).
    app.state.settings, app.state.store, app.state.judge = settings, store, judge
    app.state.card_areas = [c.name for c in collectors]  # the dashboard's cards, in order
    app.state.logs, app.state.log_sources = logs, logs.sources
    from monitor.history import database  # per-minute history (main.py's lifespan records it)
    app.state.history = database(settings)
    # Who may see what (views/auth.py); the login form shares its count of wrong tokens.
    app.state.credentials = credentials.load_credentials(settings)
    app.state.attempts = auth.Attempts(settings.login_attempts)
    # Notifications (views/notifications.py): built here only when configured, then main.py's
    # lifespan starts its tasks; unconfigured, the dispatcher is not even imported (issue 19).
    app.state.notifier = None
    if settings.notify.enabled:
        from .notifications import notifier
        notifier(app)
    from .fleet import make_poller  # /fleet: the one Prometheus poller, None without prometheus_url
    app.state.fleet = make_poller(settings)
    # Unit actions (views/actions_units.py) go through the services area's one bus connection.
    app.state.unit_jobs = next((getattr(c, "watcher", None) for c in collectors if c.name == "services"), None)
    answers: dict = {}  # the hot paths' answers (views/hot.py), filled by views/api.py's router
    _middleware(app, settings, store, answers)
    _routes(app, store, collectors, answers)


def _middleware(app: FastAPI, settings: Settings, store: Store, answers: dict) -> None:
    from .auth import AccessControl
    from .head import HeadAsGet
    from .hot import HotPaths
    from .security import AllowedHosts, SameOriginWrites, SecurityHeaders

    # Outermost last: security headers wrap everything (400/401/403 pages too), then the Host
    # check (DNS rebinding), the CSRF guard, access control, HEAD answered as GET, and innermost
    # the hot paths (/api/<area>: bytes made once per tick, answered without routing).
    app.add_middleware(HotPaths, store=store, answers=answers)
    app.add_middleware(HeadAsGet)
    app.add_middleware(AccessControl, credentials=app.state.credentials,
                       anonymous=settings.anonymous, attempts=app.state.attempts)
    app.add_middleware(SameOriginWrites)
    from .actions_audit import ActionAudit  # audits action attempts refused by the two above
    app.add_middleware(ActionAudit)
    app.add_middleware(AllowedHosts, allowed=settings.allowed_hosts, listen_host=settings.host)
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors)


def _routes(app: FastAPI, store: Store, collectors: Sequence[Collector], answers: dict) -> None:
    from . import api, docs, errors, health, history, login, logs, metrics, pages, processes
    from . import runtime, stream
    from . import history_pages

    errors.install(app)
    app.include_router(pages.router)
    app.include_router(login.router)
    app.include_router(docs.router)
    app.include_router(api.build_router(collectors, answers))
    app.include_router(api.health_router)
    app.include_router(stream.router)
    app.include_router(runtime.router)  # /api/console: the console's own tasks, RSS, tick lag
    app.include_router(health.router)
    app.include_router(metrics.build_router(store))
    app.include_router(processes.router, dependencies=[pages.DisplayCheck])
    app.include_router(processes.api_router)
    from . import services  # /services, /services/{unit}, /api/services/{unit} (full scope)
    app.include_router(services.router, dependencies=[pages.DisplayCheck])
    app.include_router(services.api_router)
    app.include_router(history.router)
    app.include_router(history_pages.router, dependencies=[pages.DisplayCheck])  # /history
    app.include_router(logs.router)
    from . import notifications
    app.include_router(notifications.router)  # /api/notifications, /api/maintenance, /notifications
    app.include_router(logs.pages, dependencies=[pages.DisplayCheck])  # ?theme= ?refresh= checked
    from . import fleet
    app.include_router(fleet.router, dependencies=[pages.DisplayCheck])  # /fleet, /fleet/stream
    if app.state.settings.actions:  # signals, renice, units: only the kinds SERVER_MONITOR_ACTIONS
        from . import actions  # enables; with none, their modules are not even imported (issue 19)
        app.include_router(actions.build_router(app.state.settings.actions))
    from fastapi.staticfiles import StaticFiles
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
