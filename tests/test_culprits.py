"""The culprit is identifiable (issue 12, item 8): each top process of a verdict carries pid,
started, name, the masked short command line and the systemd unit; the full-scope dashboard links
each to /processes/<pid>?started=; the display scope gets neither links nor command lines, in the
banner or in /api/health."""
from __future__ import annotations

import os

import pytest

from monitor.collectors.memory import MemoryCollector
from monitor.collectors.processes import ProcessesCollector
from monitor.health import ProcessRef, unit_of_pid

TOKEN = "full-token-0123456789abcdef0123"
DISPLAY = "display-token-0123456789abcdef"
WARN = {"memory_percent": {"warning": 0.01, "critical": 100, "for": 0, "clear": 0},
        "processes_zombies": {"warning": 10_000, "critical": 20_000, "clear": 0}}


def bearer(t):
    return {"Authorization": f"Bearer {t}"}


def console(make_client, tmp_path):
    return make_client(collectors=[MemoryCollector(), ProcessesCollector()], tick=60, thresholds=WARN,
                       data_dir=tmp_path, token=TOKEN, display_token=DISPLAY, login_attempts=1000)


def test_api_health_top_entries_identify_the_process(make_client, tmp_path):
    c = console(make_client, tmp_path)
    [v] = c.get("/api/health", headers=bearer(TOKEN)).json()["verdicts"]
    assert v["top"], v
    for p in v["top"]:
        assert {"pid", "started", "name", "command", "unit"} <= p.keys()
        assert isinstance(p["started"], float) and p["name"]
    assert any(p["command"] for p in v["top"])


def test_display_scope_gets_no_command_lines_from_api_health(make_client, tmp_path):
    c = console(make_client, tmp_path)
    for headers in ({}, bearer(DISPLAY)):  # anonymous loopback is the display scope too
        r = c.get("/api/health", headers=headers)
        assert r.status_code == 200
        [v] = r.json()["verdicts"]
        assert v["top"] and all(p["command"] is None for p in v["top"])
        assert all(p["started"] is not None for p in v["top"])  # identity stays, text goes


def test_full_dashboard_links_each_culprit_display_does_not(make_client, tmp_path):
    c = console(make_client, tmp_path)
    full = c.get("/dashboard", headers=bearer(TOKEN)).text
    top = c.get("/api/health", headers=bearer(TOKEN)).json()["verdicts"][0]["top"]
    for p in top:
        assert f'href="/processes/{p["pid"]}?started={p["started"]:.2f}"' in full
    assert 'class="culprit-command"' in full
    for headers in ({}, bearer(DISPLAY)):
        page = c.get("/dashboard", headers=headers).text
        assert 'class="culprit"' in page
        assert 'href="/processes/' not in page and 'class="culprit-command"' not in page
        assert all(p["command"] not in page for p in top if p["command"] and len(p["command"]) > 20)
    wall = c.get("/wall", headers=bearer(TOKEN)).text
    assert 'href="/processes/' not in wall and 'class="culprit-command"' not in wall
    assert 'sse-connect="/stream?view=wall"' in wall  # its pushes are the display scope's too
    slow = c.get("/wall?refresh=120", headers=bearer(TOKEN)).text
    assert 'sse-connect="/stream?every=2&amp;view=wall"' in slow
    assert c.get("/stream?view=desk", headers=bearer(TOKEN)).status_code == 422


def test_unit_of_this_process_is_read_where_known(tmp_path):
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "cgroup").write_text("1:name=systemd:/system.slice/nginx.service\n")
    assert unit_of_pid(42, proc=str(tmp_path)) == "nginx.service"
    assert unit_of_pid(43, proc=str(tmp_path)) is None  # gone
    unit_of_pid(os.getpid())  # reads without raising, whatever this host's cgroups are
    assert ProcessRef(pid=1, name="x").started is None


def test_browser_culprit_links_open_the_process_page_and_wall_has_none(spawn_server, watched_page, tmp_path):
    import json
    server = spawn_server(env={"SERVER_MONITOR_DATA_DIR": str(tmp_path),
                               "SERVER_MONITOR_THRESHOLDS": json.dumps(WARN)})
    page = watched_page.page
    page.goto(server.url + "/dashboard")
    link = page.locator('#health .reason-warning .culprit a[href^="/processes/"]').first
    link.wait_for(timeout=10_000)
    href = link.get_attribute("href")
    assert "?started=" in href
    link.click()
    page.wait_for_url("**" + href.split("?")[0] + "*", timeout=10_000)
    assert page.locator("h1, h2").first.is_visible()
    watched_page.assert_clean()


def test_browser_wall_banner_never_gets_culprit_links(spawn_server, watched_page, tmp_path):
    import json
    server = spawn_server(env={"SERVER_MONITOR_DATA_DIR": str(tmp_path),
                               "SERVER_MONITOR_THRESHOLDS": json.dumps(WARN)})
    page = watched_page.page
    page.goto(server.url + "/wall")
    seq = page.locator(".tick").get_attribute("data-seq")
    page.wait_for_function("(s) => document.querySelector('.tick').dataset.seq !== s", arg=seq,
                           timeout=15_000)
    page.locator("#health .reason-warning .culprit").first.wait_for(timeout=10_000)
    assert page.locator('#health a[href^="/processes/"]').count() == 0
    watched_page.assert_clean()
