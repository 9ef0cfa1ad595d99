"""The dashboard in headless Chromium: live without reload, CSP-clean, stale and recovered."""
from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def seq_of(page) -> int:
    return int(page.locator("#tick .tick").get_attribute("data-seq"))


def test_dashboard_updates_without_reload_and_is_clean(live_server, watched_page):
    page = watched_page.page
    page.goto(live_server.url + "/dashboard")
    assert page.locator("#cpu .big").inner_text().endswith("%")
    first = seq_of(page)
    marker = page.evaluate("window.__sameDocument = Math.random()")  # survives only without reload
    page.wait_for_function("(n) => Number(document.querySelector('#tick .tick').dataset.seq) >= n",
                           arg=first + 2, timeout=10_000)
    assert page.evaluate("window.__sameDocument") == marker
    assert seq_of(page) >= first + 2
    # The age mark counts, and the page is not stale while the stream runs.
    page.wait_for_timeout(1200)
    assert re.match(r"updated (just now|\d+ s ago)", page.locator(".tick-age").inner_text())
    assert not page.locator(".stale-banner").is_visible()
    # Per-core cells, sparklines and the host header are rendered by the server.
    assert page.locator("#cpu .cores li").count() >= 1
    assert page.locator("#memory svg.spark").count() == 1
    # The overview fits a 1920x1080 screen without scrolling.
    w, h = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert w <= 1920 and h <= 1080
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "dashboard.png"))
    watched_page.assert_clean()


def test_stale_banner_when_server_stops_and_recovery_without_reload(spawn_server, watched_page):
    server = spawn_server()
    page = watched_page.page
    page.goto(server.url + "/dashboard")
    page.locator("#tick .tick").wait_for(timeout=10_000)
    assert not page.locator(".stale-banner").is_visible()
    server.stop()
    page.locator(".stale-banner").wait_for(state="visible", timeout=8_000)
    before = seq_of(page)
    server.start()  # same port: the htmx SSE extension reconnects with backoff by itself
    page.locator(".stale-banner").wait_for(state="hidden", timeout=20_000)
    # Live again: new ticks keep arriving in the same document (the restarted console counts
    # its samples from 1 again, so "changed" is the test, not "grew").
    after = seq_of(page)
    page.wait_for_function("(n) => Number(document.querySelector('#tick .tick').dataset.seq) !== n",
                           arg=after, timeout=10_000)
    assert after != before or seq_of(page) != before
    # Reconnect attempts while the server was down are expected network errors, not page errors.
    assert not [e for e in watched_page.errors if "pageerror" in e]
    assert watched_page.csp_violations() == []


def test_phone_layout_has_no_horizontal_scroll(live_server, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = ctx.new_page()
    page.goto(live_server.url + "/dashboard")
    width = page.evaluate("document.documentElement.scrollWidth")
    ctx.close()
    assert width <= 390
