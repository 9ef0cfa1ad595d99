"""/wall in headless Chromium: one screen, no scrollbars, live, stale and recovered. The theme and
refresh options over HTTP are in tests/test_pages.py."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import AUTH

DOCS = Path(__file__).resolve().parent.parent / "docs"
CARDS = ("cpu", "memory", "disks", "network", "processes")


def seq_of(page) -> int:
    return int(page.locator("#tick .tick").get_attribute("data-seq"))


def open_wall(browser, url: str, width: int, height: int, headers: dict | None = None):
    ctx = browser.new_context(viewport={"width": width, "height": height}, extra_http_headers=headers)
    page = ctx.new_page()
    page.goto(url + "/wall")
    page.locator("#tick .tick").wait_for(timeout=10_000)
    return ctx, page


def assert_one_screen(page, width: int, height: int) -> None:
    doc = page.evaluate("""() => { const e = document.documentElement;
        return {sw: e.scrollWidth, sh: e.scrollHeight, cw: e.clientWidth, ch: e.clientHeight}; }""")
    assert doc["sw"] <= doc["cw"] == width, doc  # no horizontal scrollbar
    assert doc["sh"] <= doc["ch"] == height, doc  # no vertical scrollbar
    # Every card and its headline are on screen, not pushed past the edge or clipped away.
    # Measured in one evaluate: an SSE swap between two Playwright calls would detach the node.
    boxes = page.evaluate("""(areas) => areas.flatMap(a => [`#${a}`, `#${a} .card-title`]).map(sel => {
        const el = document.querySelector(sel); if (!el) return [sel, null];
        const r = el.getBoundingClientRect(); return [sel, [r.left, r.top, r.right, r.bottom]]; })""",
                          list(CARDS))
    for sel, box in boxes:
        assert box is not None, sel
        left, top, right, bottom = box
        assert left >= 0 and top >= 0 and right <= width + 0.5 and bottom <= height + 0.5, (sel, box)
    assert page.locator("#system .hostname").is_visible()


@pytest.mark.parametrize("width, height", [(1920, 1080), (1280, 720), (3840, 2160), (1080, 1920)])
def test_wall_fits_one_screen_without_scrollbars(live_server, browser, width, height):
    # Signed in with the full token: even then a wall has nothing to click (display scope).
    ctx, page = open_wall(browser, live_server.url, width, height, headers=AUTH)
    try:
        page.wait_for_timeout(300)  # static/wall.js has fitted the lists
        assert_one_screen(page, width, height)
        # Large type: the root font follows the screen (about 19 px at 1080p, 38 px at 4K).
        root_px = float(page.evaluate("getComputedStyle(document.documentElement).fontSize")[:-2])
        assert root_px >= min(width, height) / 100
        assert not page.locator("nav.nav").is_visible()  # nothing to click on a wall
        clickable = page.evaluate("""() => [...document.querySelectorAll('a, button, input, select, [tabindex]:not([tabindex="-1"])')]
            .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
            .map(e => e.outerHTML.slice(0, 80))""")
        assert clickable == [], clickable
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / f"wall-{width}x{height}.png"))
    finally:
        ctx.close()


def test_wall_is_dark_by_default_updates_live_and_is_clean(live_server, watched_page):
    page = watched_page.page
    page.goto(live_server.url + "/wall")
    assert page.locator("html").get_attribute("data-theme") == "dark"
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert sum(map(int, re.findall(r"\d+", bg)[:3])) < 3 * 60, bg  # a dark background
    for area in CARDS:
        assert page.locator(f"#{area} .card-title").count() == 1
    first = seq_of(page)
    marker = page.evaluate("window.__sameDocument = Math.random()")  # survives only without reload
    # The card is morphed in place: the same node, its content changed by the pushes.
    old_cpu = page.evaluate("""() => { const h = document.querySelector('#cpu h2'); h.__old = 1;
        window.__cpuChanges = 0;
        new MutationObserver((m) => { window.__cpuChanges += m.length; })
            .observe(document.querySelector('#cpu'), {subtree: true, childList: true,
                                                      characterData: true, attributes: true});
        return h.__old; }""")
    page.wait_for_function("(n) => Number(document.querySelector('#tick .tick').dataset.seq) >= n",
                           arg=first + 2, timeout=10_000)
    assert page.evaluate("window.__sameDocument") == marker
    assert old_cpu == 1 and page.evaluate("document.querySelector('#cpu h2').__old") == 1
    assert page.evaluate("window.__cpuChanges") > 0
    assert not page.locator(".stale-banner").is_visible()
    # A host without sensors: that card gives its cell to the others; with sensors it shows.
    quiet = page.locator("#sensors .quiet-line").count() == 1
    assert page.locator("#sensors").is_visible() is not quiet
    assert_one_screen(page, 1920, 1080)
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "wall.png"))
    page.goto(live_server.url + "/dashboard")
    page.locator("#tick .tick").wait_for(timeout=10_000)
    page.screenshot(path=str(DOCS / "dashboard.png"))
    watched_page.assert_clean()


def test_wall_light_theme_from_the_url(live_server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    try:
        page.goto(live_server.url + "/wall?theme=light")
        assert page.locator("html").get_attribute("data-theme") == "light"
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert sum(map(int, re.findall(r"\d+", bg)[:3])) > 3 * 200, bg
    finally:
        ctx.close()


def test_wall_stale_banner_when_server_stops_and_clears_after_restart(spawn_server, watched_page):
    server = spawn_server()
    page = watched_page.page
    page.goto(server.url + "/wall")
    page.locator("#tick .tick").wait_for(timeout=10_000)
    assert not page.locator(".stale-banner").is_visible()
    marker = page.evaluate("window.__sameDocument = Math.random()")
    server.stop()
    page.locator(".stale-banner").wait_for(state="visible", timeout=8_000)
    server.start()  # the same port: the page's EventSource finds it again by itself
    page.locator(".stale-banner").wait_for(state="hidden", timeout=20_000)
    after = seq_of(page)
    page.wait_for_function("(n) => Number(document.querySelector('#tick .tick').dataset.seq) !== n",
                           arg=after, timeout=10_000)
    assert page.evaluate("window.__sameDocument") == marker  # recovered without a reload
    assert not [e for e in watched_page.errors if e.startswith("pageerror")]
    assert watched_page.csp_violations() == []


def test_wall_refresh_slows_the_pushes(live_server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    try:
        page.goto(live_server.url + "/wall?refresh=2")
        assert page.locator(".live").get_attribute("sse-connect") == "/stream?every=2&view=wall"
        page.locator("#tick .tick").wait_for(timeout=10_000)
        seqs = [seq_of(page)]
        for _ in range(2):
            page.wait_for_function("(n) => Number(document.querySelector('#tick .tick').dataset.seq) > n",
                                   arg=seqs[-1], timeout=10_000)
            seqs.append(seq_of(page))
        assert all(b - a >= 2 for a, b in zip(seqs[1:], seqs[2:])), seqs
        assert not page.locator(".stale-banner").is_visible()
    finally:
        ctx.close()


def test_a_list_cut_by_its_cell_says_how_many_more(spawn_server, browser, tmp_path):
    """Thirty log sources of the test's own: at 720p the logs card cannot list them all; the rows
    that would be cut are hidden and "+N more" says how many, inside the card, after pushes too."""
    import json
    sources = []
    for i in range(30):
        (tmp_path / f"app{i}.log").write_text("")
        sources.append({"name": f"app{i:02d}", "path": str(tmp_path / f"app{i}.log")})
    server = spawn_server({"SERVER_MONITOR_LOG_SOURCES": json.dumps(sources)})
    ctx, page = open_wall(browser, server.url, 1280, 720)
    try:
        def state():
            return page.evaluate("""() => { const card = document.querySelector('#logs');
                const list = card.querySelector('.log-card-sources');
                const note = list.querySelector('.more-note');
                const limit = card.getBoundingClientRect().bottom;
                const shown = [...list.children].filter(c => !c.hidden);
                return {note: note && note.textContent, cut: list.querySelectorAll('[data-wall-cut]').length,
                        rows: list.children.length - (note ? 1 : 0),
                        inside: shown.every(c => c.getBoundingClientRect().bottom <= limit + 0.5)}; }""")
        page.wait_for_function("() => document.querySelector('#logs .more-note')", timeout=10_000)
        first = state()
        assert first["rows"] == 30 and first["cut"] > 0 and first["note"] == f"+{first['cut']} more", first
        assert first["inside"], first
        seq = seq_of(page)
        page.wait_for_function("(n) => Number(document.querySelector('#tick .tick').dataset.seq) >= n",
                               arg=seq + 2, timeout=10_000)
        page.wait_for_timeout(200)
        again = state()
        assert again["note"] == f"+{again['cut']} more" and again["inside"], again
        # The cell shrinks with no push of this card (as when the health line above the grid
        # grows, or a quiet card leaves the grid): the card is fitted again all the same.
        page.evaluate("() => { document.querySelector('.wall-grid').style.flex = '0 0 60%'; }")
        page.wait_for_function("(n) => document.querySelectorAll('#logs [data-wall-cut]').length > n",
                               arg=again["cut"], timeout=5_000)
        smaller = state()
        assert smaller["note"] == f"+{smaller['cut']} more" and smaller["inside"], smaller
    finally:
        ctx.close()
