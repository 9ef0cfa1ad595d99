"""The services area against a real systemd (tests/systemd_harness.py: a user manager under its
own D-Bus) with units of its own: one that fails, one that crash-loops, one that burns CPU, a
socket, a timer and one with hostile text in its description."""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from monitor.collectors.services import ServicesCollector, find
from monitor.health import Judge
from monitor.sampler import Snapshot
from monitor.thresholds import Thresholds
from tests.systemd_harness import BUS_CONF, TEST_UNITS, harness_for_tests, systemd  # noqa: F401


@pytest.fixture
def collector(systemd):
    c = ServicesCollector(systemd.address)
    yield c
    c.close()


def until(collector, pred, timeout=15.0, step=0.2):
    """Collect (bounded) until pred(data) holds; the last data either way."""
    deadline = time.monotonic() + timeout
    while True:
        data = collector.collect(time.time())
        if pred(data) or time.monotonic() > deadline:
            return data
        time.sleep(step)


def judge(data, thresholds=None, t=None):
    snap = Snapshot(seq=1, taken_at=t or time.time(), areas={"services": data}, unavailable={})
    return [v for v in Judge(thresholds or Thresholds())(snap) if v.area == "services"]


def test_states_come_from_the_real_systemd(collector):
    data = until(collector, lambda d: (u := find(d, "sm-tick.timer")) is not None and u.sub == "waiting")
    assert data.present and data.cgroup == "hybrid"  # this CI machine (issue 14)
    fail, sock, timer = (find(data, n) for n in ("sm-fail.service", "sm-echo.socket", "sm-tick.timer"))
    assert (fail.type, fail.active, fail.sub, fail.result) == ("service", "failed", "failed", "exit-code")
    assert fail.since is not None and abs(time.time() - fail.since) < 120
    assert (sock.type, sock.active, sock.sub) == ("socket", "active", "listening")
    assert (timer.type, timer.active, timer.sub) == ("timer", "active", "waiting")
    assert data.units[0].active == "failed"  # failed first
    assert data.failed == data.counts["failed"] >= 1
    dbus = find(data, "dbus.service")
    assert dbus.main_pid and dbus.main_pid in systemd_pids(collector)
    assert {u.type for u in data.units} <= {"service", "socket", "timer", "mount", "scope"}


def systemd_pids(collector) -> set[int]:
    return {u.main_pid for u in collector.collect(time.time()).units if u.main_pid}


def test_changes_arrive_by_signals_not_by_rereading_every_unit(systemd, collector):
    until(collector, lambda d: find(d, "sm-hostile.service") is not None)
    w = collector.watcher
    full, reads = w.full_reads, w.unit_reads
    systemd.write_unit("sm-once.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n")
    systemd.start_unit("sm-once.service")
    data = until(collector, lambda d: (u := find(d, "sm-once.service")) is not None and u.active == "active")
    assert find(data, "sm-once.service").sub == "exited"
    assert w.full_reads == full, "a started unit made the watcher list every unit again"
    # a handful of GetAll calls for the one unit (new, activating, active), not one per unit
    assert 0 < w.unit_reads - reads < 2 * len(data.units)
    systemd.stop_unit("sm-once.service")
    data = until(collector, lambda d: (u := find(d, "sm-once.service")) is None or u.active == "inactive")
    u = find(data, "sm-once.service")
    assert u is None or u.active == "inactive"


def test_a_failed_unit_is_critical_with_its_name_result_and_when(collector):
    data = until(collector, lambda d: find(d, "sm-fail.service") is not None)
    (v,) = [v for v in judge(data) if v.check == "services_failed" and v.subject == "sm-fail.service"]
    assert v.state == "critical"
    assert re.match(r"sm-fail\.service failed \d+ (s|min) ago: exit-code", v.reason), v.reason


def test_a_crash_loop_warns_with_its_restarts_in_10_min(collector):
    data = until(collector, lambda d: ((u := find(d, "sm-loop.service")) is not None
                                       and (u.restarts_recent or 0) >= 3), timeout=20)
    u = find(data, "sm-loop.service")
    assert u.restarts_recent >= 3 and u.restarts >= u.restarts_recent
    (v,) = [v for v in judge(data) if v.check == "services_restarts" and v.subject == "sm-loop.service"]
    assert v.state == "warning"
    assert re.match(r"sm-loop restarted \d+ times in 10 min", v.reason), v.reason
    # per-unit override: this unit may restart 1000 times
    t = Thresholds(units={"sm-loop.service": {"services_restarts": {"warning": 1000}}})
    (v,) = [v for v in judge(data, t) if v.check == "services_restarts" and v.subject == "sm-loop.service"]
    assert v.state == "ok"
    # ... and restarts that left the 10-min window are no longer counted
    later = collector.collect(time.time() + 3600)
    assert find(later, "sm-loop.service").restarts_recent <= 3


def test_ignored_units_are_listed_but_not_judged(systemd):
    c = ServicesCollector(systemd.address, ignore=("sm-fail.*", "sm-loop.*"))
    try:
        data = until(c, lambda d: find(d, "sm-fail.service") is not None)
        assert find(data, "sm-fail.service").ignored
        subjects = {v.subject for v in judge(data)}
        assert "sm-fail.service" not in subjects and "sm-loop.service" not in subjects
    finally:
        c.close()


def test_a_cpu_burner_costs_cpu_read_live_from_its_cgroup(systemd):
    """This machine is hybrid, so the area shows states only; but its unified hierarchy has
    cpu.stat usage_usec and the *.pressure files per cgroup. Pointing the reader at it as if it
    were v2 reads the burner's live CPU (memory, io and pids need the controllers: not live)."""
    c = ServicesCollector(systemd.address, process_interval=0.5,
                          cgroup_root=Path("/sys/fs/cgroup/unified"), cgroup_mode="v2")
    try:
        systemd.start_unit("sm-burn.service")
        data = until(c, lambda d: (u := find(d, "sm-burn.service")) is not None and u.costs is not None
                     and (u.costs.cpu_percent or 0) > 30, timeout=15, step=0.5)
        u = find(data, "sm-burn.service")
        assert u.costs is not None and u.costs.cpu_percent > 30, u
        assert u.costs.pressure_cpu is not None
        quiet = find(data, "sm-echo.socket")
        assert quiet.costs is None or (quiet.costs.cpu_percent or 0) < 5
        assert "services.sm-burn.service.cpu_percent" in c.series(data)
    finally:
        systemd.stop_unit("sm-burn.service")
        c.close()


def test_hybrid_host_says_states_only(collector):
    data = until(collector, lambda d: d.present)
    assert data.cgroup == "hybrid" and all(u.costs is None for u in data.units)


def test_a_container_scope_gets_a_readable_name(systemd, collector):
    """A scope named as podman's (libpod-<id>.scope), made by the real manager for a process
    of ours (StartTransientUnit, as podman does through systemd's cgroup driver)."""
    cid = "0123456789abcdef" * 4
    sleeper = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                "sleep", "60"])
    try:
        for cg in systemd.cgroups:  # into the manager's delegated subtree, so it may move it
            (cg / "cgroup.procs").write_text(str(sleeper.pid))
        systemd.busctl("call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                       "org.freedesktop.systemd1.Manager", "StartTransientUnit", "ssa(sv)a(sa(sv))",
                       f"libpod-{cid}.scope", "fail", "2", "PIDs", "au", "1", str(sleeper.pid),
                       "Description", "s", "libcrun container", "0")
        data = until(collector, lambda d: find(d, f"libpod-{cid}.scope") is not None)
        u = find(data, f"libpod-{cid}.scope")
        assert (u.type, u.active, u.container) == ("scope", "active", "podman 0123456789ab")
    finally:
        sleeper.kill()
        sleeper.wait(5)


def test_hostile_description_is_cleaned(collector):
    data = until(collector, lambda d: find(d, "sm-hostile.service") is not None)
    desc = find(data, "sm-hostile.service").description
    assert "\x1b" not in desc and "<script>" in desc  # cleaned here, escaped when rendered


def test_no_systemd_on_this_host():
    c = ServicesCollector("unix:path=/nonexistent/sm-no-bus")
    try:
        data = c.collect(time.time())
        assert not data.present and data.reason.startswith("no systemd on this host")
        assert judge(data) == []
    finally:
        c.close()


def test_a_bus_without_systemd_on_it_is_no_systemd(tmp_path):
    conf = tmp_path / "bus.conf"
    conf.write_text(BUS_CONF.replace("unix:tmpdir=/nonexistent", f"unix:path={tmp_path}/bus"))
    bus = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork"])
    c = ServicesCollector(f"unix:path={tmp_path}/bus")
    try:
        deadline = time.monotonic() + 5
        while not (tmp_path / "bus").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        data = c.collect(time.time())
        assert not data.present and data.reason == "no systemd on this host"
    finally:
        c.close()
        bus.terminate()
        bus.wait(5)


def test_a_lost_bus_makes_the_area_unavailable_not_ok():
    h = harness_for_tests(units={"sm-fail.service": TEST_UNITS["sm-fail.service"]},
                          start=("sm-fail.service",))
    c = ServicesCollector(h.address)
    try:
        assert c.collect(time.time()).present
    finally:
        h.stop()
    try:
        deadline = time.monotonic() + 10
        with pytest.raises(ConnectionError):
            while time.monotonic() < deadline:
                c.collect(time.time())
                time.sleep(0.1)
    finally:
        c.close()



def _wakeups(tid: int) -> int:
    with open(f"/proc/self/task/{tid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))


def test_an_idle_bus_thread_sleeps_until_a_signal_or_close():
    """Connected to a systemd with nothing changing, the bus thread does not wake on a clock (it
    looked twice a second); a unit that changes still arrives, and close() ends it at once."""
    h = harness_for_tests(units={n: TEST_UNITS[n] for n in ("sm-fail.service", "sm-echo.socket", "sm-echo.service")},
                          start=("sm-fail.service",))
    c = ServicesCollector(h.address)
    try:
        data = until(c, lambda d: d.present and (u := find(d, "sm-fail.service")) is not None and u.active == "failed")
        assert find(data, "sm-fail.service").active == "failed"
        time.sleep(1.0)  # the failure's last signals are read
        tid = c.watcher._thread.native_id
        before = _wakeups(tid)
        time.sleep(3.0)
        assert _wakeups(tid) - before <= 1  # six, looking every 0.5 s
        h.start_unit("sm-echo.socket")
        data = until(c, lambda d: (u := find(d, "sm-echo.socket")) is not None and u.active == "active")
        assert find(data, "sm-echo.socket").sub == "listening"  # woken by the signals
    finally:
        c.close()
        h.stop()
    assert not c.watcher._thread  # joined: close() woke the session instead of waiting it out


# -- the API, pages and metrics of a console reading the harness's systemd ----------------------

@pytest.fixture(scope="module")
def app_client(systemd):
    from fastapi.testclient import TestClient

    from main import create_app
    from tests.conftest import AUTH, make_settings
    app = create_app(make_settings(services_bus=systemd.address))
    with TestClient(app, base_url="http://127.0.0.1", headers=AUTH) as c:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = c.get("/api/services")
            if r.status_code == 200 and any(u["name"] == "sm-fail.service" for u in r.json()["services"]["units"]):
                break
            time.sleep(0.2)
        yield c


def test_api_lists_units_and_one_unit(app_client):
    body = app_client.get("/api/services").json()["services"]
    assert body["present"] is True and body["failed"] >= 1
    assert body["units"][0]["active"] == "failed"
    one = app_client.get("/api/services/sm-fail.service")
    assert one.status_code == 200 and one.json()["unit"]["result"] == "exit-code"
    dbus = app_client.get("/api/services/dbus.service").json()
    assert dbus["unit"]["main_pid"] in [p["pid"] for p in dbus["processes"]]
    missing = app_client.get("/api/services/sm-nope.service")
    assert missing.status_code == 404 and "sm-nope.service" in missing.json()["detail"]
    bad = app_client.get("/api/services/a%20b$c")
    assert bad.status_code == 422


def test_the_table_filters_sorts_and_expands_from_the_url(app_client):
    page = app_client.get("/services?state=failed")
    assert page.status_code == 200
    assert "sm-fail.service" in page.text and "sm-echo.socket" not in page.text
    page = app_client.get("/services?type=socket&open=sm-echo.socket")
    assert "sm-echo.socket" in page.text and "sm-fail.service" not in page.text
    assert 'class="proc-detail-row svc-detail-row" data-unit="sm-echo.socket"' in page.text
    frag = app_client.get("/fragments/services?type=socket&toggle=sm-echo.socket")
    assert frag.headers["HX-Push-Url"] == "/services?type=socket&open=sm-echo.socket"
    by_name = app_client.get("/services?sort=name&order=desc").text
    names = re.findall(r'data-unit="(sm-[a-z]+\.[a-z]+)"', by_name)
    assert names == sorted(names, reverse=True) and names
    assert app_client.get("/services?state=bogus").status_code == 422


def test_the_unit_page_shows_state_processes_and_escapes_host_text(app_client):
    page = app_client.get("/services/dbus.service")
    assert page.status_code == 200
    pid = app_client.get("/api/services/dbus.service").json()["unit"]["main_pid"]
    assert re.search(rf'href="/processes/{pid}\?started=[0-9.]+"', page.text)
    assert "journal" in page.text.lower()
    hostile = app_client.get("/services/sm-hostile.service").text
    assert "<script>alert(1)</script>" not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert app_client.get("/services/sm-nope.service").status_code == 404
    # The page follows the unit live: its block is polled, and the fragment is that block alone,
    # newer than the page (a later sample).
    assert 'hx-get="/fragments/services/dbus.service"' in page.text and 'hx-trigger="every 2s"' in page.text
    seq = int(re.search(r'id="svc-live"[^>]*data-seq="(\d+)"', page.text).group(1))
    deadline = time.monotonic() + 10
    while True:
        live = app_client.get("/fragments/services/dbus.service")
        now = int(re.search(r'data-seq="(\d+)"', live.text).group(1))
        if now > seq or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert live.status_code == 200 and live.text.lstrip().startswith('<div id="svc-live"') and now > seq
    assert re.search(rf'href="/processes/{pid}\?started=[0-9.]+"', live.text) and "Journal" not in live.text
    assert app_client.get("/fragments/services/sm-nope.service").status_code == 404
    # a process page links to its unit's page (the unit from /proc/PID/cgroup)
    proc = app_client.get(f"/processes/{pid}")
    assert proc.status_code == 200 and 'href="/services/dbus.service"' in proc.text


def test_the_dashboard_card_puts_failed_units_first(app_client):
    page = app_client.get("/dashboard").text
    card = page[page.index('id="services"'):]
    card = card[:card.index("</section>")] if "</section>" in card else card
    assert 'href="/services/sm-fail.service"' in card and "exit-code" in card


def test_metrics_use_node_exporters_systemd_names(app_client):
    text = app_client.get("/metrics").text
    assert 'node_systemd_unit_state{name="sm-fail.service",state="failed",type="service"} 1.0' in text
    assert 'node_systemd_unit_state{name="sm-fail.service",state="active",type="service"} 0.0' in text
    deadline = time.monotonic() + 15
    while True:  # the crash loop restarts every half second: the counter rises within seconds
        restarts = [line for line in text.splitlines() if line.startswith("node_systemd_service_restart")]
        if time.monotonic() > deadline or any('sm-loop.service"} 0' not in x and "sm-loop" in x
                                              for x in restarts):
            break
        time.sleep(0.5)
        text = app_client.get("/metrics").text
    assert any(re.fullmatch(r'node_systemd_service_restart_total\{name="sm-loop.service"\} [1-9][0-9.e+]*', line)
               for line in restarts), restarts


def test_the_display_scope_cannot_read_units(systemd):
    from fastapi.testclient import TestClient

    from main import create_app
    from tests.conftest import make_settings
    app = create_app(make_settings(services_bus=systemd.address))
    with TestClient(app, base_url="http://127.0.0.1") as anon:  # anonymous loopback: display
        for path in ("/services", "/services/sm-fail.service", "/api/services",
                     "/api/services/sm-fail.service", "/fragments/services/sm-fail.service"):
            assert anon.get(path, follow_redirects=False).status_code in (302, 303, 401, 403), path
        deadline = time.monotonic() + 15  # the display scope's card: counts and names, no links
        while "sm-fail.service" not in (page := anon.get("/dashboard").text) and time.monotonic() < deadline:
            time.sleep(0.2)
        card = page[page.index('id="services"'):]
        assert "sm-fail.service" in card and 'href="/services' not in page


def test_a_mount_point_that_is_not_utf8_does_not_hide_the_other_units(tmp_path):
    """Real systemd refuses ListUnits as a whole when one mount unit's description (its mount
    point) is not UTF-8 (D-Bus strings must be). The mount is made in the harness's own mount
    namespace only (nsenter): the host never sees it."""
    h = harness_for_tests(units={"sm-fail.service": TEST_UNITS["sm-fail.service"]},
                          start=("sm-fail.service",))
    c = ServicesCollector(h.address)
    try:
        bad = os.path.join(str(h.dir).encode(), b"mnt-\xff\xfe")
        os.mkdir(bad)
        subprocess.run([b"nsenter", b"--mount", b"--target", str(h.pid).encode(), b"mount", b"-t",
                        b"tmpfs", b"-o", b"size=1m", b"sm-hostile", bad], check=True, timeout=10)
        assert h.call("ListUnits", quiet=True) is None  # systemd itself refuses
        data = until(c, lambda d: d.present and find(d, "sm-fail.service") is not None)
        assert find(data, "sm-fail.service").active == "failed"
        assert data.unlisted == ["mount"]
        assert next(v for v in judge(data) if v.subject == "sm-fail.service").state == "critical"
    finally:
        c.close()
        h.stop()


def test_the_unit_page_shows_its_journal_lines(systemd, tmp_path):
    """Through the logs machinery (monitor/logs/): a real journal file (tests/journal_files.py)
    read by the real journalctl, only this unit's lines, as inert text."""
    from fastapi.testclient import TestClient

    from main import create_app
    from tests.conftest import AUTH, make_settings
    from tests.journal_files import write_journal
    write_journal(tmp_path / "journal", [
        {"MESSAGE": "sm-fail exploded <b>boom</b>", "_SYSTEMD_UNIT": "sm-fail.service", "PRIORITY": "3"},
        {"MESSAGE": "cron ran", "_SYSTEMD_UNIT": "cron.service", "PRIORITY": "6"},
    ])
    app = create_app(make_settings(services_bus=systemd.address, log_sources=[
        {"name": "journal", "kind": "journal", "path": str(tmp_path / "journal")}]))
    with TestClient(app, base_url="http://127.0.0.1", headers=AUTH) as c:
        deadline = time.monotonic() + 15
        while c.get("/api/services/sm-fail.service").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        page = c.get("/services/sm-fail.service").text
    assert "sm-fail exploded &lt;b&gt;boom&lt;/b&gt;" in page and "cron ran" not in page
    assert 'href="/logs?source=journal&amp;unit=sm-fail.service"' in page


# -- unit actions (issue 17) through the area's own bus connection -----------------------------

def test_unit_actions_send_jobs_to_the_real_systemd_and_answer_their_result(systemd, tmp_path):
    """Enabled for listed units: start, restart, reload and stop go to systemd's Manager through
    the services area's connection and answer the job's result when JobRemoved says it ended;
    a unit that fails to start answers "failed", an unknown one a 404; each attempt is audited."""
    from fastapi.testclient import TestClient

    from main import create_app
    from tests.conftest import AUTH, make_settings
    systemd.write_unit("sm-nap.service", "[Unit]\nDescription=naps\n[Service]\nExecStart=/bin/sleep 300\n"
                                         "ExecReload=/bin/true\n")
    systemd.reload()
    app = create_app(make_settings(services_bus=systemd.address, data_dir=tmp_path, actions=["unit"],
                                   action_units=["sm-nap.service", "sm-fail.service", "sm-none.service"]))
    with TestClient(app, base_url="http://127.0.0.1", headers=AUTH) as c:
        deadline = time.monotonic() + 20
        while c.get("/api/services").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)

        def act(unit, verb):
            return c.post(f"/api/services/{unit}/{verb}")

        r = act("sm-nap.service", "start")
        assert r.status_code == 200 and r.json() == {"unit": "sm-nap.service", "verb": "start", "result": "done"}
        assert systemd.prop("sm-nap.service", "Unit", "ActiveState") == "active"
        first = systemd.prop("sm-nap.service", "Service", "MainPID")
        assert act("sm-nap.service", "restart").json()["result"] == "done"
        assert systemd.prop("sm-nap.service", "Service", "MainPID") not in (first, "0")
        assert act("sm-nap.service", "reload").json()["result"] == "done"
        assert act("sm-nap.service", "stop").json()["result"] == "done"
        try:
            assert systemd.prop("sm-nap.service", "Unit", "ActiveState") == "inactive"
        except RuntimeError as exc:  # stopped and unreferenced: systemd unloads it at once
            assert "not loaded" in str(exc)
        assert act("sm-fail.service", "start").json()["result"] == "failed"  # ExecStart=/bin/false
        r = act("sm-none.service", "start")
        assert r.status_code == 404 and "sm-none.service" in r.json()["detail"]
        audits = [e["audit"] for e in c.get("/api/events").json()["events"] if e.get("audit")]
        seen = {(a["action"], a["unit"], a["result"]) for a in audits}
        assert {("unit start", "sm-nap.service", "done"), ("unit restart", "sm-nap.service", "done"),
                ("unit stop", "sm-nap.service", "done"), ("unit start", "sm-fail.service", "failed"),
                ("unit start", "sm-none.service", "not done")} <= seen, seen


def test_the_unit_page_acts_through_its_form_after_asking(systemd, tmp_path, browser):
    """In Chromium, signed in: the unit page offers restart/reload/stop/start for a listed unit;
    a click asks first (the browser's dialog, dismissed: nothing happens; accepted: the job runs)
    and the job's result is shown in place; a unit not listed gets no buttons."""
    from tests.conftest import AUTH, _spawn
    systemd.write_unit("sm-nap2.service", "[Unit]\nDescription=naps\n[Service]\nExecStart=/bin/sleep 300\n")
    systemd.reload()
    systemd.start_unit("sm-nap2.service")  # loaded, so listed (an unreferenced stopped unit is not)
    server = _spawn({"SERVER_MONITOR_SERVICES_BUS": systemd.address, "SERVER_MONITOR_DATA_DIR": str(tmp_path),
                     "SERVER_MONITOR_ACTIONS": '["unit"]', "SERVER_MONITOR_ACTION_UNITS": '["sm-nap2.service"]'})
    ctx = browser.new_context(extra_http_headers=AUTH)
    try:
        page = ctx.new_page()
        asked: list[str] = []
        answer = {"accept": False}
        page.on("dialog", lambda d: (asked.append(d.message), d.accept() if answer["accept"] else d.dismiss()))
        deadline = time.monotonic() + 20
        while server.get("/api/services/sm-nap2.service").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        first = systemd.prop("sm-nap2.service", "Service", "MainPID")
        page.goto(server.url + "/services/sm-nap2.service")
        page.locator("#unit-actions button[data-verb=restart]").click()
        page.wait_for_timeout(500)
        assert asked == ["Restart sm-nap2.service?"] and page.locator("#unit-actions .action-result").count() == 0
        assert systemd.prop("sm-nap2.service", "Service", "MainPID") == first  # dismissed: nothing done
        answer["accept"] = True
        page.locator("#unit-actions button[data-verb=restart]").click()
        result = page.locator("#unit-actions .action-result")
        result.wait_for(timeout=15_000)
        assert result.get_attribute("data-result") == "done" and "restart job" in result.inner_text()
        assert systemd.prop("sm-nap2.service", "Service", "MainPID") not in (first, "0")
        page.locator("#unit-actions button[data-verb=stop]").click()  # the buttons came back
        page.wait_for_function("() => document.querySelector('#unit-actions .action-result')"
                               ".textContent.includes('stop job')", timeout=15_000)
        page.goto(server.url + "/services/sm-fail.service")
        assert page.locator("#unit-actions").count() == 0  # not listed: nothing to click
    finally:
        ctx.close()
        server.stop()
