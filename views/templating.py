"""The one Jinja2 environment: one loader with prefixed names, autoescape on, every global and filter.

Names say what a template is, so a page and a card may share a word:

    pages/<name>   templates/<name>   full pages (``pages/dashboard.html``, ``pages/logs_page.html``)
    cards/<name>   partials/<name>    cards, fragments and macros (``cards/cpu.html``, ``cards/_card.html``)

An unprefixed name does not load: every template says which kind it means.

jinja2-fragments' Jinja2Blocks lets a route render one named block of a page template, so a page
and its fragments are one file and never drift apart.

Every template global and filter is registered here and nowhere else, so any template renders
whichever views module happens to be imported (``health_card`` and ``limits`` live in
views/health.py, which imports this module: they are looked up when called).
"""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, PrefixLoader
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup

from .charts import sparkline
from .format import FILTERS

ROOT = Path(__file__).resolve().parent.parent
PAGES, CARDS = ROOT / "templates", ROOT / "partials"

loader = PrefixLoader({"pages": FileSystemLoader(PAGES), "cards": FileSystemLoader(CARDS)})
env = Environment(
    loader=loader,
    autoescape=True,  # host data (process names, log lines) is hostile; never turn this off
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Blocks(env=env)


def health_card(request, snap) -> Markup:
    """``{{ health_card(request, snap) }}``: the health banner (views/health.py)."""
    from . import health  # imported when called: views/health.py imports this module
    return health.health_card(request, snap)


def limits(snap, check: str, subject: str = "") -> str:
    """``{{ limits(snap, "cpu_percent") }}`` in a card value's title= (views/health.py)."""
    from . import health
    return health.limits(snap, check, subject)


env.filters.update(FILTERS)
env.globals.update(sparkline=sparkline, health_card=health_card, limits=limits)
