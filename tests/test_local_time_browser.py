"""Times in the operator's local time with the zone (issue 18, item 7): the server renders its
own zone inside <time datetime=UTC>, the browser (here set to Tokyo, UTC+9, whatever this host's
zone) shows each in its own zone, after live updates too; no raw epoch in a message."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from tests.conftest import AUTH

TOKYO = timezone(timedelta(hours=9))


def test_times_show_in_the_browsers_zone_with_the_zone(spawn_server, browser, tmp_path):
    log = tmp_path / "app.log"
    log.write_bytes(b"")
    server = spawn_server({"SERVER_MONITOR_LOG_SOURCES": json.dumps(
        [{"name": "app", "kind": "file", "path": str(log)}])})
    ctx = browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB", extra_http_headers=AUTH)
    try:
        page = ctx.new_page()
        page.goto(server.url + "/dashboard")
        uptime = page.locator("#system time[data-local]").first
        uptime.wait_for(timeout=10_000)
        page.wait_for_function("() => document.querySelector('#system time[data-local]').dataset.shown")
        iso = uptime.get_attribute("datetime")
        want = datetime.fromisoformat(iso).astimezone(TOKYO)
        shown = uptime.inner_text()
        assert want.strftime("%H:%M") in shown and re.search(r"GMT\+9|JST", shown), (iso, shown)
        # A pushed card's times are morphed in as the server wrote them and shown in Tokyo time
        # again: the logs card changes with each error line written here (a card whose HTML did
        # not change is not pushed at all: views/stream.py).
        page.evaluate("""() => { window.__logsPushes = 0;
            document.body.addEventListener('htmx:sseMessage', (e) => {
                if (e.detail.type === 'logs') window.__logsPushes++; }); }""")
        for n in (1, 2):
            with log.open("ab") as f:
                f.write(b"Nov 26 11:32:0%d web1 app[1]: error: disk on fire %d\n" % (n, n))
            page.wait_for_function(f"() => window.__logsPushes >= {n}", timeout=10_000)
        line = page.locator("#logs time[data-local]").first
        page.wait_for_function("() => { const t = document.querySelector('#logs time[data-local]');"
                               " return t && t.dataset.shown === t.getAttribute('datetime'); }",
                               timeout=5_000)
        assert re.search(r"GMT\+9|JST", line.inner_text()), line.inner_text()
        assert re.search(r"GMT\+9|JST", uptime.inner_text()), uptime.inner_text()
    finally:
        ctx.close()


def test_a_reused_pid_message_has_a_readable_time(make_client):
    import os

    import psutil
    me = psutil.Process(os.getpid())
    r = make_client().get(f"/api/processes/{me.pid}", params={"started": me.create_time() - 1000})
    assert r.status_code == 404 and "now belongs to another process" in r.json()["detail"]
    assert not re.search(r"\b1[0-9]{9}\.[0-9]{2}\b", r.json()["detail"]), r.json()["detail"]
    assert re.search(r"started at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r.json()["detail"])


def test_history_pages_follow_the_browsers_zone(live_server, browser):
    """/history renders the zone named in ?tz=; opened without one it is shown in the browser's
    zone (Tokyo here, whatever the host's), the URL replaced, not pushed."""
    ctx = browser.new_context(timezone_id="Asia/Tokyo", extra_http_headers=AUTH)
    try:
        page = ctx.new_page()
        page.goto(live_server.url + "/history?range=1h")
        page.wait_for_url("**tz=Asia%2FTokyo*", timeout=10_000)
        assert page.evaluate("history.length") <= 2  # about:blank, then the page: replaced, not pushed
        assert "+09" in page.content() or "JST" in page.content()
    finally:
        ctx.close()
