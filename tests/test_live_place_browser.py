"""Live updates keep the operator's place (issue 18, item 1), in Chromium: the cards and the
process table are morphed in place (idiomorph), so a focused link and a text selection survive
five updates, and an expanded row stays where the operator is looking (pinned at the top) while
the sort re-ranks the rest. Every test ends with no console or CSP error."""
from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from tests.test_processes_browser import child, open_detail_attached, wait_refreshes  # noqa: F401

BUSY = "import time\nend = time.time() + 120\nwhile time.time() < end: pass\n"


@pytest.fixture
def busy():
    """A process burning CPU, so it is in the dashboard's top-by-CPU list whatever else runs."""
    p = subprocess.Popen([sys.executable, "-c", BUSY])
    yield p
    p.kill()
    p.wait(5)


def wait_ticks(page, n: int) -> None:
    for _ in range(n):
        seq = page.evaluate("document.querySelector('#tick .tick').dataset.seq")
        page.wait_for_function("(s) => document.querySelector('#tick .tick').dataset.seq !== s",
                               arg=seq, timeout=15_000)


def test_a_focused_link_on_the_dashboard_keeps_focus_through_five_updates(live_server, watched_page, busy):
    page = watched_page.page
    page.goto(live_server.url + "/dashboard")
    link = page.locator(f'#top-cpu-{busy.pid} a[href^="/processes/{busy.pid}?"]')
    link.wait_for(timeout=15_000)  # the busy process reaches the top list within a few samples
    link.focus()
    wait_ticks(page, 5)
    focused = page.evaluate("document.activeElement.getAttribute('href') || ''")
    assert focused.startswith(f"/processes/{busy.pid}?"), focused
    assert page.evaluate("document.activeElement.closest('section').id") == "processes"
    watched_page.assert_clean()


def test_a_text_selection_in_an_open_row_survives_five_updates(live_server, watched_page, child):
    kid, marker = child()
    page = watched_page.page
    page.goto(f"{live_server.url}/processes?q={marker}&open={kid.pid}")
    code = page.locator(f"#proc-detail-{kid.pid} .proc-cmdline code")
    code.wait_for(timeout=15_000)
    page.evaluate("""() => { const c = document.querySelector('.proc-cmdline code');
        const r = document.createRange(); r.selectNodeContents(c);
        const s = getSelection(); s.removeAllRanges(); s.addRange(r); }""")
    selected = page.evaluate("getSelection().toString()")
    assert marker in selected
    wait_refreshes(page, 5)
    assert open_detail_attached(page, kid.pid)
    assert page.evaluate("getSelection().toString()") == selected
    watched_page.assert_clean()


def test_an_open_row_stays_at_the_top_while_the_sort_reranks_the_rest(live_server, watched_page, child, busy):
    """Sorted by CPU, an idle process would sink below the busy ones; open, it is pinned first,
    marked so, through five refreshes; closed, it goes back to its place in the sort."""
    kid, _ = child()
    page = watched_page.page
    page.goto(f"{live_server.url}/processes?sort=cpu&order=desc&limit=10000&open={kid.pid}")
    page.locator(f"#proc-detail-{kid.pid} .proc-detail").wait_for(timeout=15_000)
    first_row = "document.querySelector('#proc-rows tr.proc-row').dataset.pid"
    for _ in range(5):
        assert page.evaluate(first_row) == str(kid.pid)
        assert open_detail_attached(page, kid.pid)
        wait_refreshes(page, 1)
    assert page.locator(f"#proc-{kid.pid} .pin").inner_text().lower() == "open"
    assert "kept at the top while open" in page.locator(".proc-summary").inner_text()
    page.locator(f"#proc-{kid.pid} td.name").click()  # close it
    page.wait_for_function("(p) => !location.search.includes('open=' + p)", arg=kid.pid, timeout=5_000)
    deadline = time.monotonic() + 10
    while page.evaluate(first_row) == str(kid.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert page.evaluate(first_row) != str(kid.pid)  # unpinned: the busy process outranks it
    assert psutil.pid_exists(busy.pid)
    watched_page.assert_clean()
