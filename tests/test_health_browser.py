"""Chromium: a forced warning shows on its card (a word, not colour alone), in the reasons at the top
of the dashboard, and in the page title and favicon of every page."""
from __future__ import annotations

import json

import httpx
import pytest

# Memory is above 0.01 % used on any running machine: a real value crossing a configured level.
WARN = {"memory_percent": {"warning": 0.01, "critical": 100, "for": 0, "clear": 0}}


@pytest.fixture
def warned(spawn_server, tmp_path):
    return spawn_server(env={"SERVER_MONITOR_DATA_DIR": str(tmp_path),
                             "SERVER_MONITOR_THRESHOLDS": json.dumps(WARN)})


def test_warning_on_card_reasons_title_and_favicon(warned, watched_page):
    page = watched_page.page
    page.goto(warned.url + "/dashboard")
    card = page.locator("#memory .card-title .state")
    assert card.inner_text().strip().lower() == "warning"
    assert "state-warning" in card.get_attribute("class")
    reason = page.locator("#health .reason-warning .reason-text")
    assert reason.count() == 1
    assert reason.inner_text().startswith("memory is ") and "(warning at 0.01 %)" in reason.inner_text()
    page.wait_for_function("(p) => document.title.startsWith(p)", arg="\u26a0 WARNING", timeout=10_000)
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/static/favicon-warning.svg"
    # The banner is pushed again each tick and stays right (the SSE "health" event).
    seq = page.locator(".tick").get_attribute("data-seq")
    page.wait_for_function("(s) => document.querySelector('.tick').dataset.seq !== s", arg=seq,
                           timeout=10_000)
    assert page.locator("#health [data-overall]").get_attribute("data-overall") == "warning"
    assert page.title().startswith("\u26a0 WARNING")
    watched_page.assert_clean()  # favicons load, no CSP violation from health.js


def test_pages_without_the_banner_poll_the_state(warned, watched_page):
    page = watched_page.page
    for path in ("/processes", "/logs"):
        r = warned.get(path)
        assert r.status_code == 200 and "/static/health.js" in r.text
        page.goto(warned.url + path)
        page.wait_for_function("(p) => document.title.startsWith(p)", arg="\u26a0 WARNING", timeout=10_000)
        assert page.locator('link[rel="icon"]').get_attribute("href") == "/static/favicon-warning.svg"
    watched_page.assert_clean()


def test_ok_keeps_the_plain_title(spawn_server, watched_page, tmp_path):
    from monitor.thresholds import CHECKS
    calm = {name: {"enabled": False} for name in CHECKS}  # every check, new areas' too
    server = spawn_server(env={"SERVER_MONITOR_DATA_DIR": str(tmp_path),
                               "SERVER_MONITOR_THRESHOLDS": json.dumps(calm)})
    page = watched_page.page
    page.goto(server.url + "/dashboard")
    page.wait_for_function("() => document.documentElement.dataset.health === 'ok'", timeout=10_000)
    assert "WARNING" not in page.title() and "CRITICAL" not in page.title()
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/static/favicon-ok.svg"
    assert page.locator("#health .health-summary").inner_text() == "all 0 checks ok"
    watched_page.assert_clean()
