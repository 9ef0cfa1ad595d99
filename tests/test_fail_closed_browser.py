"""Chromium: when judging fails, the banner, the page title and the favicon say "unknown" (not
"ok") on the dashboard and on pages without the banner; they recover when judging does."""
from __future__ import annotations

from tests.test_watchdog import start_console, stop


def test_a_failed_judgment_shows_unknown_in_banner_title_and_favicon(watched_page, tmp_path):
    fail = tmp_path / "judge-fails"
    fail.touch()
    proc, url = start_console(None, tmp_path, script="tests/faulty_console.py",
                              SERVER_MONITOR_TEST_JUDGE_FAIL=str(fail))
    try:
        page = watched_page.page
        page.goto(url + "/dashboard")
        page.wait_for_function("(p) => document.title.startsWith(p)", arg="? UNKNOWN \u00b7 ", timeout=10_000)
        assert page.locator('link[rel="icon"]').get_attribute("href") == "/static/favicon-unknown.svg"
        banner = page.locator("#health .health-summary")
        assert banner.inner_text() == "not judged: judging failed: RuntimeError: injected judge failure"
        assert page.locator("#health .state").first.inner_text().lower() == "unknown"  # CSS capitalises
        assert page.locator("#memory .card-title .state").inner_text().lower() == "unknown"
        page.goto(url + "/processes")  # no banner here: health.js polls /api/health (503, unknown)
        page.wait_for_function("(p) => document.title.startsWith(p)", arg="? UNKNOWN", timeout=10_000)
        fail.unlink()
        page.goto(url + "/dashboard")
        page.wait_for_function("() => !document.title.startsWith('?')", timeout=10_000)
        assert page.locator("#health [data-overall]").get_attribute("data-overall") != "unknown"
        # The unknown favicon loads and nothing breaks CSP; the only errors Chromium reports are
        # /processes' polls of /api/health answered 503 while unknown, as they should be.
        assert watched_page.csp_violations() == []
        assert watched_page.errors and all("status of 503" in e for e in watched_page.errors)
    finally:
        stop(proc)
