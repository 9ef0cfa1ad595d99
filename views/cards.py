"""Live cards: each area's partial rendered once per snapshot, shared by pages and the SSE stream.

A card's HTML for a given snapshot is memoised on the snapshot, so the first page load or SSE
client of a tick renders it and every other client reuses the same string.
"""
from __future__ import annotations

import logging

from markupsafe import Markup

from monitor.sampler import Snapshot, Store

from .templating import env

log = logging.getLogger("server_monitor.cards")


def card_context(store: Store, snap: Snapshot, area: str) -> dict:
    return {
        "snap": snap,
        "data": snap.get(area),
        "reason": snap.unavailable.get(area),
        "history": store.history,
        "area": area,
    }


def render_card(store: Store, snap: Snapshot, area: str) -> Markup:
    """The inner HTML of the card ``area`` (partials/<area>.html) for this snapshot."""
    def make() -> Markup:
        # Markup only says "already escaped": the template escaped every host value (autoescape,
        # views/templating.py), so the page and the SSE stream must not escape it a second time.
        try:
            return Markup(env.get_template(f"{area}.html").render(card_context(store, snap, area)))
        except Exception:  # a template bug in one card must not take the stream or page down
            log.exception("rendering the %s card failed", area)
            return env.get_template("_card_failed.html").render(area=area)
    return snap.memo(f"card:{area}", make)


def render_tick(snap: Snapshot) -> Markup:
    """The freshness mark: each push restarts its CSS stale timer (see static/app.css)."""
    return snap.memo("card:tick", lambda: Markup(env.get_template("tick.html").render(snap=snap)))
