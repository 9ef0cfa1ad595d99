"""Annotated dependencies: everything a view needs from the app, by name.

Views take these as parameters (``def page(snap: SnapshotDep, events: EventsDep)``) and never
read ``request.app.state`` themselves; ``views.install(app)`` and main.py's ``create_app`` put
each object where its getter looks. A view outside FastAPI's injection (middleware, a template
global) calls the getter with the request: ``events_of(request)``.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from monitor.events import EventLog
from monitor.health import Judge
from monitor.logs.follow import LogHub
from monitor.logs.sources import LogSource
from monitor.sampler import Snapshot, Store
from monitor.settings import Settings

from .auth import Attempts
from .credentials import Credentials


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_snapshot(request: Request) -> Snapshot:
    snap = request.app.state.store.seen()
    if snap is None:  # only between process start and the first tick
        raise HTTPException(503, "no sample taken yet; retry in a second", headers={"Retry-After": "1"})
    return snap


def get_judge(request: Request) -> Judge | None:
    return getattr(request.app.state, "judge", None)


def events_of(request: Request) -> EventLog | None:
    """The judge's event log (monitor/events.py), None when the app judges nothing."""
    judge = get_judge(request)
    return judge.events if judge is not None else None


def get_areas(request: Request) -> list[str]:
    """The areas this console collects, in card order (monitor/areas.py unless a test chose)."""
    return request.app.state.card_areas


def get_log_hub(request: Request) -> LogHub:
    return request.app.state.logs


def get_log_sources(request: Request) -> dict[str, LogSource]:
    return request.app.state.log_sources


def get_credentials(request: Request) -> Credentials:
    return request.app.state.credentials


def get_attempts(request: Request) -> Attempts:
    return request.app.state.attempts


def _on_loop(getter):
    """The getter as an async dependency: FastAPI runs a plain ``def`` dependency in its thread
    pool, a hand-off that cost more than the whole answer (/api/cpu 1,900 -> see issue 19);
    these only read app.state, which never blocks."""
    async def dependency(request: Request):
        return getter(request)
    dependency.__name__ = dependency.__qualname__ = getter.__name__
    dependency.__doc__ = getter.__doc__
    return dependency


StoreDep = Annotated[Store, Depends(_on_loop(get_store))]
SettingsDep = Annotated[Settings, Depends(_on_loop(get_settings))]
SnapshotDep = Annotated[Snapshot, Depends(_on_loop(get_snapshot))]
JudgeDep = Annotated[Judge | None, Depends(_on_loop(get_judge))]
EventsDep = Annotated[EventLog | None, Depends(_on_loop(events_of))]
AreasDep = Annotated[list[str], Depends(_on_loop(get_areas))]
LogHubDep = Annotated[LogHub, Depends(_on_loop(get_log_hub))]
LogSourcesDep = Annotated[dict[str, LogSource], Depends(_on_loop(get_log_sources))]
CredentialsDep = Annotated[Credentials, Depends(_on_loop(get_credentials))]
AttemptsDep = Annotated[Attempts, Depends(_on_loop(get_attempts))]
