"""A phone (issue 18, item 4), in Chromium at 390 px: every page is usable with no horizontal
page scroll, with long data the test makes itself (a busy process with a 256-character unbroken
name, a 20,000-character error line); the process table keeps PID, name, CPU and the command
line, wrapping, and drops the other columns."""
from __future__ import annotations

import json
import time

import pytest

from tests.hostile import hostile_host

PAGES = ["/dashboard", "/wall", "/processes", "/processes/{pid}", "/logs", "/history",
         "/services", "/docs", "/login", "/fleet", "/notifications"]


@pytest.fixture(scope="module")
def long_host(browser, tmp_path_factory):
    from tests.conftest import _spawn
    with hostile_host(roles={"long_name"}, long_name_busy=True) as host:
        sources = [{"name": "app", "kind": "file", "path": str(host.log_path)}]
        server = _spawn({"SERVER_MONITOR_LOG_SOURCES": json.dumps(sources),
                         "SERVER_MONITOR_DATA_DIR": str(tmp_path_factory.mktemp("phone"))})
        time.sleep(1.5)  # the logs area opens the file at its end on its first tick: write after
        host.append_log(b"Nov 26 11:32:07 web1 app[1]: error: " + b"W" * 20_000)
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  extra_http_headers=server.headers)
        try:
            yield server, host, ctx
        finally:
            ctx.close()
            server.stop()


@pytest.mark.parametrize("path", PAGES)
def test_no_horizontal_page_scroll_at_390px(long_host, path):
    server, host, ctx = long_host
    page = ctx.new_page()
    try:
        r = page.goto(server.url + path.format(pid=host.pids["long_name"]))
        assert r.status in (200, 401, 404) or r.ok, r.status
        page.wait_for_timeout(800)
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 391 && !e.closest('.proc-scroll, pre, .log-scroll'))
            .map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.')).slice(0, 10)""")
        assert width <= 390, (path, wide)
    finally:
        page.close()


def test_the_process_table_collapses_to_what_matters(long_host):
    server, host, ctx = long_host
    page = ctx.new_page()
    try:
        page.goto(server.url + "/processes?q=" + "x")  # any view; then the long one
        page.goto(server.url + f"/processes?limit=10000&open={host.pids['long_name']}")
        row = page.locator(f"#proc-{host.pids['long_name']}")
        row.wait_for(timeout=15_000)
        shown = page.evaluate("""() => [...document.querySelectorAll('.proc-table thead th')]
            .filter(th => getComputedStyle(th).display !== 'none').map(th => th.textContent.trim())""")
        assert [s.split()[0] for s in shown] == ["PID", "Name", "CPU", "Command"], shown
        table = page.evaluate("document.querySelector('.proc-scroll').scrollWidth")
        assert table <= 390, table  # the table itself fits: the command line wraps
        assert row.locator("td.name").bounding_box()["height"] > 30  # the long name wraps too
    finally:
        page.close()
