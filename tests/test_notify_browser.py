"""Chromium: the notifications page's test button sends to every channel and shows each result; the
maintenance buttons start and end a window, which the dashboard's banner then states."""
from __future__ import annotations

import json

from monitor.thresholds import CHECKS
from tests.conftest import free_port
from tests.test_notify import SECRET, TOKEN, webhook  # noqa: F401 - the receiver fixture


def test_the_test_button_and_maintenance_from_the_page(spawn_server, tmp_path, webhook, watched_page):  # noqa: F811
    down = f"json://hook:{SECRET}@127.0.0.1:{free_port()}/x?token={TOKEN}"
    calm = {name: {"enabled": False} for name in CHECKS}
    server = spawn_server(env={
        "SERVER_MONITOR_DATA_DIR": str(tmp_path), "SERVER_MONITOR_THRESHOLDS": json.dumps(calm),
        "SERVER_MONITOR_NOTIFY": json.dumps({"channels": [{"url": webhook.url, "name": "ops hook"},
                                                          {"url": down}], "timeout": 2})})
    page = watched_page.page
    page.goto(server.url + "/notifications")
    rows = page.locator("table.notify-channels tbody tr")
    assert rows.count() == 2 and rows.nth(0).locator("td").first.inner_text() == "ops hook"
    page.click("#notify-test")
    page.wait_for_selector("#notify-results .notify-result", timeout=15_000)
    results = page.locator("#notify-results .notify-result")
    assert results.count() == 2
    assert results.nth(0).get_attribute("data-ok") == "true" and "ops hook" in results.nth(0).inner_text()
    assert results.nth(1).get_attribute("data-ok") == "false"
    assert "Connection error" in results.nth(1).inner_text()
    [got] = webhook.wait(1)
    assert got["title"].startswith("[TEST] ")
    assert SECRET not in page.content() and TOKEN not in page.content()

    page.click('button[data-minutes="60"]')
    page.wait_for_selector("#maintenance .notify-window[data-until]", timeout=10_000)
    assert "warnings held" in page.locator("#maintenance").inner_text()
    page.goto(server.url + "/dashboard")
    note = page.locator("#health .health-notify .notify-window")
    assert "warnings held" in note.inner_text() and "maintenance" in note.inner_text()
    page.goto(server.url + "/notifications")
    page.click('button[data-minutes="0"]')
    page.wait_for_selector("#maintenance .notify-window-none", timeout=10_000)
    watched_page.assert_clean()
