"""Density where it pays (issue 18, item 2), in Chromium: the compact /processes fits 30 rows
at 1080p (with 40 processes of the test's own, whatever else runs); at 1366x768 the health
banner, CPU, memory and the top processes are above the fold; the processes card shows the
masked short command line to the full scope only (full on hover or focus); a card with nothing
to say is one line."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import AUTH

SLEEPER = "import time; time.sleep(120)"


@pytest.fixture
def forty():
    procs = [subprocess.Popen([sys.executable, "-c", SLEEPER, "--password=hunter2", f"sm-dense-{i}"])
             for i in range(40)]
    yield procs
    for p in procs:
        p.kill()
    for p in procs:
        p.wait(5)


def rows_in_view(page) -> int:
    return page.evaluate("""() => [...document.querySelectorAll('#proc-rows tr.proc-row')]
        .filter(r => { const b = r.getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight; }).length""")


def test_compact_processes_fit_30_rows_at_1080p(live_server, watched_page, forty):
    page = watched_page.page
    page.goto(live_server.url + "/processes?q=sm-dense")
    page.wait_for_function("() => document.querySelectorAll('#proc-rows tr.proc-row').length >= 40",
                           timeout=15_000)
    comfortable = rows_in_view(page)
    page.locator("a.proc-density").click()
    page.wait_for_function("() => location.search.includes('density=compact')", timeout=5_000)
    page.locator("table.density-compact").wait_for(timeout=5_000)
    compact = rows_in_view(page)
    assert compact >= 30 and compact > comfortable, (comfortable, compact)
    page.reload()  # the density is in the URL
    assert page.locator("table.density-compact").count() == 1
    watched_page.assert_clean()


def test_the_essentials_are_above_the_fold_at_1366x768(spawn_server, browser, tmp_path):
    """With one thing wrong: the CPU critical, its three culprits and its episode in the banner.
    The test sets that state (every other check off) instead of taking the host's: under load a
    second warning once grew the banner past what this layout promises."""
    from monitor.thresholds import CHECKS
    policy = {name: {"enabled": False} for name in CHECKS}
    policy["cpu_percent"] = {"warning": 0.01, "critical": 0.02, "for": 0, "clear": 0}
    server = spawn_server({"SERVER_MONITOR_DATA_DIR": str(tmp_path),
                           "SERVER_MONITOR_THRESHOLDS": json.dumps(policy)})
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, extra_http_headers=AUTH)
    try:
        page = ctx.new_page()
        page.goto(server.url + "/dashboard")
        page.locator("#processes .proc-top, #processes .muted").first.wait_for(timeout=15_000)
        page.locator("#health .reason-critical .culprit").first.wait_for(timeout=15_000)
        assert page.locator("#health .reason").count() == 1
        for sel in ("#health", "#cpu .card-title", "#memory .card-title", "#processes .card-title",
                    "#processes .proc-top tbody tr:first-child, #processes p.muted"):
            box = page.locator(sel).first.bounding_box()
            assert box is not None and box["y"] + min(box["height"], 40) <= 768, (sel, box)
    finally:
        ctx.close()


def test_processes_card_command_lines_full_scope_only_and_masked(live_server, watched_page, forty, make_client):
    page = watched_page.page
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(live_server.url + "/dashboard")
    cmd = page.locator("#processes .proc-top td.cmd").first
    cmd.wait_for(timeout=15_000)
    assert not page.locator("#processes .proc-top .cmd-full:visible").count()
    # The card is re-ranked every 2 s: the row under the pointer may move away between the hover
    # and the look, so look at whichever row is hovered, a few times at most.
    shown = False
    for _ in range(5):
        page.locator("#processes .proc-top tbody tr").first.hover()
        if page.locator("#processes .proc-top tr:hover .cmd-full").first.is_visible():
            shown = True
            break
        page.wait_for_timeout(200)
    assert shown
    texts = page.locator("#processes .proc-top td.cmd").all_inner_texts()
    assert all("hunter2" not in t for t in texts)
    watched_page.assert_clean()
    display = make_client(credential=False).get("/dashboard").text  # anonymous loopback: display scope
    assert 'class="cmd"' not in display and "cmd-full" not in display
