"""/fleet in Chromium: a console that stops shows as down without a reload, no console errors.

A real Prometheus scrapes two consoles every second; a third console (prometheus_url set, polling
every second) shows the fleet. Every wait is bounded.
"""
from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS, _spawn
from tests.test_fleet import CALM, CRITICAL, Prom, console, target
from tests.test_prometheus import query, until


@pytest.fixture
def two_consoles(tmp_path):
    servers, prom = [], None
    try:
        servers += [console(CALM, tmp_path / "a"), console(CRITICAL, tmp_path / "b")]
        prom = Prom(tmp_path, [target(s) for s in servers])
        for s in servers:
            until(lambda s=s: query(prom.url, f'server_monitor_state{{instance="{target(s)}"}}'),
                  bool, f"{target(s)} scraped")
        viewer = _spawn({"SERVER_MONITOR_PROMETHEUS_URL": prom.url, "SERVER_MONITOR_FLEET_INTERVAL": "1",
                         "SERVER_MONITOR_DATA_DIR": str(tmp_path / "viewer")})
        servers.append(viewer)
        yield servers
    finally:
        for s in servers:
            s.stop()
        if prom is not None:
            prom.stop()


def test_fleet_updates_live_when_a_console_stops(two_consoles, watched_page):
    calm, critical, viewer = two_consoles
    page = watched_page.page
    page.goto(viewer.url + "/fleet")
    row = 'tr.fleet-row[data-instance="{}"]'.format
    assert page.locator(row(target(calm))).get_attribute("data-state") == "ok"
    assert page.locator(row(target(critical))).get_attribute("data-state") == "critical"
    assert "memory used" in page.locator(row(target(critical)) + " .reason-text").inner_text()
    page.wait_for_function("() => Number(document.querySelector('#fleet .fleet').dataset.seq) > 2",
                           timeout=15_000)  # answers arrive by themselves
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    critical.stop()
    page.wait_for_selector(row(target(critical)) + '[data-state="down"]', timeout=20_000)
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    down = page.locator(row(target(critical)))
    assert "connection refused" in down.inner_text()
    # worst first: the down console moved to the top of the list
    assert page.locator("tr.fleet-row").first.get_attribute("data-instance") == target(critical)
    assert page.locator(row(target(calm))).get_attribute("data-state") == "ok"
    assert page.locator('nav a[href="/fleet"][aria-current="page"]').count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fleet.png"), full_page=True)
    watched_page.assert_clean()
