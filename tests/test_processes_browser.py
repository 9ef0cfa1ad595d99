"""The process table in headless Chromium: filter, expand in place through refreshes and sorts,
URL state across reload and back, keyboard toggling, hostile process names as inert text."""
from __future__ import annotations

import subprocess
import sys
import time
import uuid

import psutil
import pytest

CHILD = ("import sys, time\n"
         "open('/proc/self/comm', 'w').write(sys.argv[1])\n"
         "time.sleep(120)\n")


@pytest.fixture
def child(tmp_path):
    started: list[subprocess.Popen] = []

    def spawn(*args: str, name: str = "sm-browser-kid"):
        marker = f"marker-{uuid.uuid4().hex[:10]}"
        p = subprocess.Popen([sys.executable, "-", name, marker, *args], cwd=tmp_path,
                             stdin=subprocess.PIPE)
        started.append(p)
        p.stdin.write(CHILD.encode())
        p.stdin.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and psutil.Process(p.pid).name() != name[:15]:
            time.sleep(0.02)
        return p, marker

    yield spawn
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait(5)


def open_detail_attached(page, pid: int) -> bool:
    """The row is expanded and its detail, about the same PID, is the very next row."""
    return page.evaluate("""(pid) => {
        const row = document.getElementById('proc-' + pid);
        const next = row && row.nextElementSibling;
        const detail = next && next.querySelector('.proc-detail');
        const toggle = row && row.querySelector('.proc-toggle');
        return !!(row && toggle.getAttribute('aria-expanded') === 'true' && next.id === 'proc-detail-' + pid
                  && detail && detail.dataset.pid === String(pid));
    }""", pid)


def wait_refreshes(page, n: int, timeout_ms: int = 15_000) -> None:
    """Wait until a poll has brought a newer sample into the table ``n`` times (the view is
    morphed in place, so it is the sample number that changes, not the element)."""
    for _ in range(n):
        seq = page.evaluate("document.getElementById('proc-view').dataset.seq")
        page.wait_for_function("(s) => { const v = document.getElementById('proc-view');"
                               " return v && v.dataset.seq !== s; }", arg=seq, timeout=timeout_ms)


def test_filter_expand_survives_refreshes_sorts_reload_and_back(live_server, watched_page, child):
    kid, marker = child()
    pid = kid.pid
    page = watched_page.page
    # every row (not the first 100): the child must stay on screen whatever the sort
    page.goto(live_server.url + "/processes?limit=10000")
    page.locator("#proc-q").fill(marker)
    row = page.locator(f"#proc-{pid}")
    row.wait_for(timeout=15_000)  # typed filter, then the next sample lists the child
    # The unfiltered table (limit=10000) already lists the child: wait for the filter's answer.
    page.wait_for_function("(m) => location.search.includes('q=' + m) && "
                           "document.querySelectorAll('#proc-rows tr.proc-row').length === 1",
                           arg=marker, timeout=15_000)
    assert page.locator("#proc-rows tr.proc-row").count() == 1
    assert "q=" + marker in page.url

    row.locator("td.name").click()
    page.locator(f"#proc-detail-{pid} .proc-detail").wait_for(timeout=5_000)
    assert open_detail_attached(page, pid)
    assert f"open={pid}" in page.url
    assert marker in page.locator(f"#proc-detail-{pid} .proc-cmdline").inner_text()

    # Three refreshes later it is still open, on the same process.
    wait_refreshes(page, 3)
    assert open_detail_attached(page, pid)

    # Clear the filter so other rows move around it, then sort by other columns.
    page.locator("#proc-q").fill("")
    page.wait_for_function("() => document.querySelectorAll('#proc-rows tr.proc-row').length > 1")
    for label, key in (("PID", "pid"), ("Name", "name"), ("Started", "start")):
        page.locator(f"th.col-{key} a.sort").click()
        page.wait_for_function("(k) => location.search.includes('sort=' + k)", arg=key)
        page.locator(f"th.col-{key}[aria-sort]").wait_for()
        assert open_detail_attached(page, pid), label
    wait_refreshes(page, 1)
    assert open_detail_attached(page, pid)
    assert page.locator(".proc-detail").count() == 1

    # Filter again, then reload the URL: same sort, filter and open row.
    page.locator("#proc-q").fill(marker)
    page.wait_for_function("(m) => location.search.includes('q=' + m)", arg=marker)
    url = page.url
    page.reload()
    assert page.url == url
    assert page.locator("#proc-q").input_value() == marker
    assert page.locator("th.col-start").get_attribute("aria-sort") == "descending"
    assert open_detail_attached(page, pid)

    # Back: the view before the last sort (by name), fetched again from its URL.
    page.go_back()
    page.wait_for_function("() => location.search.includes('sort=name')", timeout=5_000)
    page.locator("th.col-name[aria-sort]").wait_for(timeout=5_000)
    assert open_detail_attached(page, pid)
    watched_page.assert_clean()


def test_keyboard_toggles_rows_and_links_do_not(live_server, watched_page, child):
    kid, marker = child()
    pid = kid.pid
    page = watched_page.page
    page.goto(f"{live_server.url}/processes?q={marker}")
    row = page.locator(f"#proc-{pid}")
    if not row.count():
        row.wait_for(timeout=15_000)
    row.locator(".proc-toggle").focus()
    page.keyboard.press("Enter")
    page.locator(f"#proc-detail-{pid}").wait_for(timeout=5_000)
    # focus stays on the (morphed) row's toggle, so the next key press toggles it again
    page.wait_for_function("(pid) => document.activeElement && document.activeElement.closest('tr')"
                           " && document.activeElement.closest('tr').id === 'proc-' + pid", arg=pid)
    page.keyboard.press(" ")
    page.locator(f"#proc-detail-{pid}").wait_for(state="detached", timeout=5_000)
    assert page.locator(f"#proc-{pid} .proc-toggle").get_attribute("aria-expanded") == "false"
    # the PID link opens the process's own page instead of toggling the row
    page.locator(f"#proc-{pid} td.num a").first.click()
    page.wait_for_url(f"**/processes/{pid}?started=*")
    assert page.locator(f".proc-detail[data-pid='{pid}']").count() == 1
    assert page.locator("h1.page-title").inner_text().startswith("sm-browser-kid")
    watched_page.assert_clean()


def test_hostile_name_and_arguments_are_text_and_nothing_runs(live_server, watched_page, child):
    kid, marker = child("<img src=x onerror=alert(1)>", '"><script>alert(2)</script>',
                        name='"><img src=x>')
    pid = kid.pid
    page = watched_page.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server.url}/processes?q={marker}&open={pid}")
    page.locator(f"#proc-{pid}").wait_for(timeout=15_000)
    page.locator(f"#proc-detail-{pid} .proc-detail").wait_for(timeout=5_000)
    wait_refreshes(page, 1)
    cells = page.locator(f"#proc-{pid} td")
    assert cells.nth(1).inner_text() == '"><img src=x>'
    assert '<img src=x onerror=alert(1)> "><script>alert(2)</script>' in cells.nth(10).inner_text()
    assert '"><script>alert(2)</script>' in page.locator(f"#proc-detail-{pid} .proc-cmdline").inner_text()
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    page.goto(f"{live_server.url}/processes/{pid}")
    assert page.locator("h1.page-title").inner_text().startswith('"><img src=x>')
    assert page.locator("main img, main script").count() == 0
    assert dialogs == []
    watched_page.assert_clean()
