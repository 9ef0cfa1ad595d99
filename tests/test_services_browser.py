"""The services pages in headless Chromium against the harness's real systemd: failed first,
filter and expand with the state in the URL, the unit page, the dashboard card, and no CSP
violation or script error anywhere."""
from __future__ import annotations

import pytest

from tests.systemd_harness import systemd  # noqa: F401 - the module's real systemd
from tests.test_a11y_browser import axe_violations


@pytest.fixture
def console(systemd, serve_app):
    import time

    import httpx

    from main import create_app
    from tests.conftest import AUTH, make_settings
    url = serve_app(create_app(make_settings(services_bus=systemd.address)))
    deadline = time.monotonic() + 15  # until the first snapshot has the units
    while time.monotonic() < deadline:
        r = httpx.get(url + "/api/services/sm-fail.service", headers=AUTH, timeout=5)
        if r.status_code == 200:
            break
        time.sleep(0.2)
    return url


def test_table_filter_expand_and_unit_page(console, watched_page):
    page = watched_page.page
    page.goto(console + "/services")
    page.wait_for_selector('tr.svc-row[data-unit="sm-fail.service"]', timeout=15_000)
    first = page.locator("tr.svc-row").first
    assert first.get_attribute("data-unit") == "sm-fail.service"  # failed first
    assert "failed" in first.inner_text()

    page.fill("#svc-q", "echo")
    page.wait_for_function("() => location.search.includes('q=echo')", timeout=10_000)
    page.wait_for_function("() => !document.querySelector('tr.svc-row[data-unit=\"sm-fail.service\"]')",
                           timeout=10_000)
    page.locator('tr.svc-row[data-unit="sm-echo.socket"] button.svc-toggle').focus()
    page.keyboard.press("Enter")  # the name is the row's toggle button
    page.wait_for_selector('tr.svc-detail-row[data-unit="sm-echo.socket"]', timeout=10_000)
    assert page.get_attribute('tr.svc-row[data-unit="sm-echo.socket"] button.svc-toggle',
                              "aria-expanded") == "true"
    page.wait_for_function("() => location.search.includes('open=sm-echo.socket')", timeout=10_000)
    page.reload()  # the view is in the URL
    page.wait_for_selector('tr.svc-detail-row[data-unit="sm-echo.socket"]', timeout=10_000)
    assert page.input_value("#svc-q") == "echo"
    assert axe_violations(page) == []
    page.locator('tr.svc-row[data-unit="sm-echo.socket"] td.status').click()  # click closes it
    page.wait_for_function("() => !document.querySelector('tr.svc-detail-row')", timeout=10_000)

    page.goto(console + "/services/sm-hostile.service")
    assert page.locator("h1").inner_text().startswith("sm-hostile.service")
    assert page.evaluate("() => window.__pwned === undefined && !document.querySelector('.svc-one script')")
    assert "<script>alert(1)</script>" in page.locator(".svc-one").inner_text()
    assert axe_violations(page) == []
    # the failed test unit makes the host critical: the header's /api/health poll answers 503
    watched_page.assert_clean(answered=(503,))


def test_dashboard_card_and_process_page_link(console, watched_page, systemd):
    page = watched_page.page
    page.goto(console + "/dashboard")
    page.wait_for_selector('.svc-failed a[href="/services/sm-fail.service"]', timeout=15_000)
    page.click('.svc-failed a[href="/services/sm-fail.service"]')
    page.wait_for_url("**/services/sm-fail.service")
    assert "exit-code" in page.locator(".svc-one").inner_text()
    watched_page.assert_clean(answered=(503,))  # critical host: /api/health is 503
