"""Live cards: each area's partial rendered once per snapshot, shared by pages and the SSE stream.

A card's HTML for a given snapshot is memoised on the snapshot, so the first page load or SSE
client of a tick renders it and every other client reuses the same string.
"""
from __future__ import annotations

import logging

from markupsafe import Markup

from monitor.sampler import Snapshot, Store

from .templating import env, render

log = logging.getLogger("server_monitor.cards")


FULL, DISPLAY = "full", "display"


def scope_of(request) -> str:
    """The rendering scope of a request: "full" only for the full role (views/auth.py sets it);
    anything else, an unknown role included, gets the display rendering."""
    return FULL if getattr(request.state, "role", None) == FULL else DISPLAY


def card_context(store: Store, snap: Snapshot, area: str, scope: str = DISPLAY) -> dict:
    return {
        # The display scope never carries command lines, log text or links to full-scope pages.
        "full": scope == FULL,
        "snap": snap,
        "data": snap.get(area),
        "reason": snap.unavailable.get(area),
        "history": store.history,
        "area": area,
    }


def render_card(store: Store, snap: Snapshot, area: str, scope: str = DISPLAY) -> Markup:
    """The inner HTML of the card ``area`` (``cards/<area>.html``) for this snapshot, once per
    scope: the display rendering drops what only the full scope may read. A card whose template
    fails is drawn as ``cards/_card_failed.html``, Markup too: a page must not show it as text."""
    def make() -> Markup:
        # Markup only says "already escaped": the template escaped every host value (autoescape,
        # views/templating.py), so the page and the SSE stream must not escape it a second time.
        try:
            return Markup(render(f"cards/{area}.html", card_context(store, snap, area, scope)))
        except Exception:  # a template bug in one card must not take the stream or page down
            log.exception("rendering the %s card failed", area)
            return Markup(env.get_template("cards/_card_failed.html").render(area=area))
    return snap.memo(f"card:{area}:{scope}", make)


def render_tick(snap: Snapshot) -> Markup:
    """The freshness mark: each push restarts its CSS stale timer (see static/app.css)."""
    return snap.memo("card:tick", lambda: Markup(render("cards/tick.html", {"snap": snap})))
