"""One Jinja environment (views/templating.py): prefixed names, every global registered there,
the failed card drawn as markup."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT


def test_a_page_and_a_card_may_share_a_name():
    from views.templating import env
    page = env.get_template("pages/logs_page.html").filename
    card = env.get_template("cards/logs.html").filename
    assert page == str(ROOT / "templates" / "logs_page.html")
    assert card == str(ROOT / "partials" / "logs.html")
    assert env.get_template("pages/base.html").filename == str(ROOT / "templates" / "base.html")


def test_unprefixed_names_do_not_load():
    from jinja2 import TemplateNotFound

    from views.templating import env
    for name in ("cpu.html", "dashboard.html"):
        with pytest.raises(TemplateNotFound):
            env.get_template(name)


def test_every_global_is_registered_by_the_templating_module():
    from views.templating import env
    assert {"sparkline", "health_card", "limits"} <= set(env.globals)
    assert {"bytes", "pct"} <= set(env.filters)


def test_the_memory_card_renders_without_views_health_imported():
    """`limits` used to exist only once views/health.py had been imported; in a fresh process
    that imports only the card renderer the memory card must draw, not "could not be drawn"."""
    code = textwrap.dedent("""
        import asyncio, sys
        from monitor.collectors.memory import MemoryCollector
        from monitor.sampler import Sampler, Store
        from views.cards import render_card
        store = Store(10)
        sampler = Sampler(store, [MemoryCollector()], tick=1, timeout=1)
        snap = asyncio.run(sampler.sample_once())
        sampler.close()
        assert "views.health" not in sys.modules, "test is void: views.health already imported"
        html = str(render_card(store, snap, "memory"))
        assert "could not be drawn" not in html, html
        assert 'data-metric="memory.percent"' in html, html
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_a_failed_card_is_markup_on_a_full_page(client, monkeypatch):
    """The fallback card is HTML the template wrote, so the page must carry it as tags, not as
    the escaped text "&lt;p class=...&gt;"."""
    from views import cards
    real = cards.card_context

    def broken(store, snap, area, *scope):
        if area == "memory":
            raise KeyError("template bug")
        return real(store, snap, area, *scope)

    monkeypatch.setattr(cards, "card_context", broken)
    html = client.get("/dashboard").text
    assert '<p class="unavailable">This card could not be drawn' in html
    assert "&lt;p class" not in html and "&lt;h2" not in html
    failed = cards.render_card(client.app.state.store, client.app.state.store.latest, "memory")
    assert type(failed).__name__ == "Markup"
