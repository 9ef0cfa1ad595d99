"""Annotated dependencies shared by the routers."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from monitor.sampler import Snapshot, Store
from monitor.settings import Settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_snapshot(request: Request) -> Snapshot:
    snap = request.app.state.store.latest
    if snap is None:  # only between process start and the first tick
        raise HTTPException(503, "no sample taken yet; retry in a second", headers={"Retry-After": "1"})
    return snap


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
