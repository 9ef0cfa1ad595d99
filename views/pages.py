"""Full HTML pages, rendered complete on first load (usable with JavaScript off).

Every page takes two display options in its URL, validated here within bounds the server sets:

    /dashboard?theme=light          theme: dark | light | auto (the browser's preference)
    /wall?refresh=5                 refresh: seconds between live updates, 1..300, >= the tick

A bad value is a 422 page that says what was wrong. ``display_options`` is the dependency; other
page routers get the same check with ``app.include_router(router, dependencies=[DisplayCheck])``.
The chosen theme reaches every page template (base.html's ``data-theme``) through a template
context processor, so a page needs no code for it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .cards import DISPLAY, render_card, render_tick, scope_of
from .deps import AreasDep, SettingsDep, SnapshotDep, StoreDep
from .templating import templates

REFRESH_MAX = 300  # seconds; slower than this a "live" page is not live any more
# The stale banner shows when no tick arrived for this long; a page that refreshes every N s
# waits for the first step >= 2 N + 2 s (static/app.css has one class per step).
STALE_STEPS = (5, 10, 20, 40, 80, 160, 320, 640)
Theme = Literal["dark", "light", "auto"]


@dataclass(frozen=True)
class Display:
    theme: Theme | None  # None: the page's own default (dark on /wall, auto elsewhere)
    refresh: int | None  # seconds between updates; None: every tick
    every: int  # push every Nth snapshot (what /stream?every= gets)
    stale_after: int  # seconds without a tick before the stale banner shows
    wall: bool = False  # the wall: rendered as the display scope whoever looks (nothing to click)

    @property
    def stream_url(self) -> str:
        query = [f"every={self.every}"] if self.every != 1 else []
        query += ["view=wall"] if self.wall else []
        return "/stream" + ("?" + "&".join(query) if query else "")


def display_options(
    settings: SettingsDep,
    theme: Annotated[Theme | None, Query(description="colour theme; auto follows the browser")] = None,
    refresh: Annotated[int | None, Query(ge=1, le=REFRESH_MAX,
                                         description="seconds between live updates")] = None,
) -> Display:
    tick = settings.tick
    if refresh is not None and refresh < tick:
        raise HTTPException(422, f"refresh: must be at least the sampling tick ({tick:g} s)")
    every = max(1, round(refresh / tick)) if refresh else 1
    gap = every * tick
    stale = next((s for s in STALE_STEPS if s >= 2 * gap + 2), STALE_STEPS[-1])
    return Display(theme=theme, refresh=refresh, every=every, stale_after=stale)


DisplayDep = Annotated[Display, Depends(display_options)]
DisplayCheck = Depends(display_options)


def theme_context(request: Request) -> dict:
    """Context processor: a valid ?theme= wins over the page's default on every page template.
    Invalid values are ignored here; the route's ``display_options`` answers them with a 422."""
    theme = request.query_params.get("theme")
    return {"theme": theme} if theme in ("dark", "light", "auto") else {}


templates.context_processors.append(theme_context)

router = APIRouter(include_in_schema=False)


@router.get("/")
def index(request: Request) -> RedirectResponse:
    query = request.url.query  # ?theme= and ?refresh= carry over
    return RedirectResponse("/dashboard" + (f"?{query}" if query else ""), status_code=307)


def _live_page(request: Request, store, snap, areas: list[str], display: Display, template: str,
               theme: str):
    scope = DISPLAY if display.wall else scope_of(request)
    return templates.TemplateResponse(request, template, {
        "snap": snap,
        "cards": {a: render_card(store, snap, a, scope) for a in areas},
        "tick": render_tick(snap),
        "areas": areas,
        "system": snap.get("system"),
        "display": display,
        "theme": display.theme or theme,
    })


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, store: StoreDep, snap: SnapshotDep, areas: AreasDep,
              display: DisplayDep):
    return _live_page(request, store, snap, areas, display, "pages/dashboard.html", "auto")


@router.get("/wall", response_class=HTMLResponse)
def wall(request: Request, store: StoreDep, snap: SnapshotDep, areas: AreasDep, display: DisplayDep):
    """The wall display: the whole host on one screen, large type, dark unless ?theme= says not."""
    return _live_page(request, store, snap, areas, replace(display, wall=True), "pages/wall.html", "dark")

