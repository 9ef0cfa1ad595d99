"""The dashboard in headless Chromium: live without reload, CSP-clean, stale and recovered."""
from __future__ import annotations

import re
import time
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
    # Past the banner's 5 s timer it stays hidden: each tick is a new node, which restarts it
    # (a morphed tick kept its node, and the banner said "disconnected" on a live page).
    page.wait_for_function("() => performance.now() > 7000", timeout=10_000, polling=250)
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


def test_phone_layout_has_no_horizontal_scroll(spawn_server, browser):
    """The phone layout holds for any host data, so the test makes the long data itself instead
    of depending on what the host has (it once failed 413 > 390 because of what happened to be
    running): a busy process with a 256-character unbroken name (top of the processes card), a
    20,000-character unbroken error line (the logs card), and as root a mount point of 200+
    unbroken characters (the disks card)."""
    import json

    from tests.hostile import LONG_NAME, hostile_host
    with hostile_host(roles={"long_name"}, long_name_busy=True, mount=True) as host:
        sources = [{"name": "app", "kind": "file", "path": str(host.log_path)}]
        server = spawn_server({"SERVER_MONITOR_LOG_SOURCES": json.dumps(sources)})
        time.sleep(1.5)  # the logs area opens the file at its end on its first tick: write after
        host.append_log(b"Nov 26 11:32:07 web1 app[1]: error: " + b"W" * 20_000)
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  extra_http_headers=server.headers)
        page = ctx.new_page()
        page.goto(server.url + "/dashboard")
        # The long data is on the page: the test guards something (the card's second process
        # read gives cpu_percent, then the busy process is in the top list).
        page.wait_for_function(
            "(n) => [...document.querySelectorAll('#processes .name')].some(e => e.textContent.length >= n)",
            arg=200, timeout=15_000)
        page.wait_for_function("() => (document.querySelector('#logs') || {}).textContent.includes('WWWWWWWWWW')",
                               timeout=15_000)
        if host.mount_point is not None:
            page.wait_for_function("() => document.querySelector('#disks').textContent.includes('MMMMMMMMMM')",
                                   timeout=15_000)
        assert LONG_NAME > 200
        width = page.evaluate("document.documentElement.scrollWidth")
        # Which elements stick out, for the failure message (the deepest ones name the culprit).
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 391)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.')
                 + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 40)""")
        ctx.close()
    assert width <= 390, wide
