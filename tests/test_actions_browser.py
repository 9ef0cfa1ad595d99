"""Actions in Chromium: the process page and an expanded row of the table, each through its
confirmation (naming the process and its command line) to the result shown in place, against a
real console and real processes this test starts; no CSP violation, no console error."""
from __future__ import annotations

import os
import random
import signal

import httpx
import psutil

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, CSP_WATCH, TEST_TOKEN  # noqa: F401
from tests.test_actions_api import target  # noqa: F401 - real processes of the test's own

ENABLED = {"SERVER_MONITOR_ACTIONS": '["signal", "renice"]', "SERVER_MONITOR_PROCESS_INTERVAL": "0.5"}


def test_process_page_term_through_the_confirmation(spawn_server, watched_page, target):
    server = spawn_server(env=ENABLED)
    p, started = target("sleep", "60")
    page = watched_page.page
    page.goto(f"{server.url}/processes/{p.pid}?started={started:.2f}")
    box = page.locator(f"#proc-actions-{p.pid}")
    box.locator('button[data-signal="TERM"]').click()
    confirm = box.locator(".action-confirm")
    confirm.wait_for()
    assert "SIGTERM" in confirm.inner_text() and "sleep" in confirm.locator(".act-name").inner_text()
    assert confirm.locator(".act-command").inner_text() == "sleep 60"
    assert p.poll() is None  # nothing happens before the confirmation
    confirm.locator(".act-confirm").click()
    result = box.locator("[data-result]").first
    result.wait_for()
    assert result.get_attribute("data-result") == "gone", result.inner_text()
    assert p.wait(5) == -signal.SIGTERM
    assert "signal TERM" in box.locator(".action-records").inner_text()  # the audit record
    page.wait_for_timeout(2500)  # the polled detail says it is gone; the result stays
    assert box.locator("[data-result]").first.get_attribute("data-result") == "gone"
    watched_page.assert_clean()


def test_expanded_row_stop_and_cont_survive_the_table_polls(spawn_server, watched_page, target):
    server = spawn_server(env=ENABLED)
    marker = f"{random.randint(100, 999)}.{random.randint(100, 999)}"
    p, _started = target("sleep", marker)
    page = watched_page.page
    page.goto(f"{server.url}/processes?q={marker}&open={p.pid}")
    box = page.locator(f"#proc-actions-{p.pid}")
    box.locator('button[data-signal="STOP"]').click()
    box.locator(".action-confirm").wait_for()
    assert f"sleep {marker}" in box.locator(".act-command").inner_text()
    page.wait_for_timeout(2500)  # polls of the table keep the confirmation where it is
    box.locator(".act-confirm").click()
    box.locator('[data-result="stopped"]').wait_for()
    assert psutil.Process(p.pid).status() == psutil.STATUS_STOPPED
    page.wait_for_timeout(2500)
    assert box.locator('[data-result="stopped"]').count() == 1  # still shown after the polls
    box.locator('button[data-signal="CONT"]').click()
    box.locator(".act-confirm").click()
    box.locator('[data-result="running"]').wait_for()
    assert psutil.Process(p.pid).status() != psutil.STATUS_STOPPED
    watched_page.assert_clean()


def test_logged_in_browser_renices_and_a_forged_form_does_nothing(spawn_server, browser, target):
    """A login cookie, as a real operator has; a page on another origin posting the same form
    (with the cookie the browser attaches by itself) is refused and audited."""
    server = spawn_server(env=ENABLED)
    p, started = target("sleep", "60")
    ctx = browser.new_context()
    ctx.add_init_script(CSP_WATCH)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{server.url}/login?next=/processes/{p.pid}%3Fstarted%3D{started:.2f}")
    page.fill('input[name="token"]', TEST_TOKEN)
    page.press('input[name="token"]', "Enter")
    box = page.locator(f"#proc-actions-{p.pid}")
    box.locator('input[name="nice"]').fill("13")
    box.locator(".act-renice-go").click()
    box.locator(".act-confirm").click()
    box.locator('[data-result="running"]').wait_for()
    assert os.getpriority(os.PRIO_PROCESS, p.pid) == 13
    assert errors == [] and page.evaluate("window.__cspViolations || []") == []
    # The same form from another origin: the browser sends the cookie, Sec-Fetch-Site says
    # cross-site, and the console refuses before anything is read.
    evil = ctx.new_page()
    evil.set_content(f'<form id="f" method="post" action="{server.url}/processes/{p.pid}/signal">'
                     f'<input name="signal" value="KILL"><input name="started" value="{started:.2f}">'
                     f'</form>')
    with evil.expect_navigation():
        evil.evaluate("document.getElementById('f').submit()")
    assert "cross-site request refused" in evil.content()
    assert p.poll() is None
    events = httpx.get(server.url + "/api/events", headers=server.headers, timeout=10).json()["events"]
    kill = next(e for e in events if e.get("audit") and e["audit"]["action"] == "signal")
    assert kill["audit"]["result"] == "refused" and "cross-site" in kill["reason"]
    renice = next(e for e in events if e.get("audit") and e["audit"]["action"] == "renice 13")
    assert renice["audit"]["via"] == "cookie" and renice["audit"]["result"] == "running"
    ctx.close()
