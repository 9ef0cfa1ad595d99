"""Full HTML pages, rendered complete on first load (usable with JavaScript off)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .cards import render_card, render_tick
from .deps import SnapshotDep, StoreDep
from .templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=307)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, store: StoreDep, snap: SnapshotDep):
    areas = request.app.state.card_areas
    return templates.TemplateResponse(request, "dashboard.html", {
        "snap": snap,
        "cards": {a: render_card(store, snap, a) for a in areas},
        "tick": render_tick(snap),
        "areas": areas,
        "system": snap.get("system"),
    })
