"""/api/health, /api/events, /api/alert-rules and the health banner, against the real host.

Verdicts are forced with thresholds the real values must cross (memory is above 0.01 % used on
any running machine), and the scenario test fills a real filesystem with a file it writes.
"""
from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from monitor import alert_rules
from monitor.collectors.memory import MemoryCollector
from monitor.collectors.processes import ProcessesCollector
from monitor.thresholds import Thresholds
from views.stream import event_parts, health_banner
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
WARN = {"memory_percent": {"warning": 0.01, "critical": 100, "for": 0, "clear": 0}}
CRIT = {"memory_percent": {"warning": 0.01, "critical": 0.02, "for": 0, "clear": 0}}
CALM = {"memory_percent": {"warning": 99.9, "critical": 100, "for": 0, "clear": 99}}


@pytest.fixture
def console(make_client, tmp_path):
    """A console with memory only (a deterministic set of checks) and its own data directory."""
    def build(thresholds, collectors=(), **settings):
        return make_client(collectors=[MemoryCollector(), *collectors], tick=60,
                           thresholds=thresholds, data_dir=tmp_path, **settings)
    return build


def test_ok_is_200_with_no_verdicts(console):
    r = console(CALM).get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["verdicts"], body["checks"]) == ("ok", [], 1)


def test_warning_is_200_with_the_reason(console):
    # With the process table, a memory verdict names the largest processes (zombies stay ok).
    zombies_ok = {**WARN, "processes_zombies": {"warning": 10_000, "critical": 20_000, "clear": 0}}
    r = console(zombies_ok, collectors=[ProcessesCollector()]).get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "warning"
    [v] = body["verdicts"]
    assert (v["check"], v["area"], v["state"], v["threshold"], v["unit"]) == \
        ("memory_percent", "memory", "warning", 0.01, "%")
    assert v["reason"].startswith("memory is ")
    assert "% used (warning at 0.01 %), " in v["reason"] and v["reason"].endswith(" available")
    assert abs(v["since"] - time.time()) < 120
    rss = [p["rss"] for p in v["top"]]
    assert len(rss) == 3 and rss == sorted(rss, reverse=True) and rss[-1] > 0  # the 3 largest


def test_critical_is_503_and_configurable(console):
    r = console(CRIT).get("/api/health")
    assert r.status_code == 503 and r.json()["status"] == "critical"
    relaxed = console(CRIT, health_status_critical=200, health_status_warning=299)
    assert relaxed.get("/api/health").status_code == 200
    assert console(WARN, health_status_warning=299).get("/api/health").status_code == 299


@pytest.mark.parametrize("how", [{"params": {"format": "text"}}, {"headers": {"Accept": "text/plain"}}])
def test_text_is_one_line_per_verdict(console, how):
    r = console(CRIT).get("/api/health", **how)
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/plain")
    head, *lines = r.text.splitlines()
    assert head.startswith("critical: 1 of 1 checks not ok (sample 1 at ")
    assert len(lines) == 1 and lines[0].startswith("CRITICAL memory_percent: memory is ")
    assert "(critical at 0.02 %)" in lines[0] and "(since " in lines[0]


def test_bad_format_is_422_with_a_message(console):
    r = console(WARN).get("/api/health", params={"format": "xml"})
    assert r.status_code == 422
    assert "format" in r.json()["detail"] and "json" in r.json()["detail"]


def test_events_are_listed_and_limit_is_checked(console, tmp_path):
    c = console(CRIT)
    [ev] = c.get("/api/events").json()["events"]
    assert (ev["check"], ev["state"], ev["end"]) == ("memory_percent", "critical", None)
    assert (tmp_path / "events.jsonl").exists()
    r = c.get("/api/events", params={"limit": 0})
    assert r.status_code == 422 and "limit" in r.json()["detail"]


def test_events_are_kept_across_a_restart(make_client, tmp_path):
    c = make_client(collectors=[MemoryCollector()], tick=60, thresholds=CRIT, data_dir=tmp_path)
    first = c.get("/api/events").json()["events"][0]
    c.__exit__(None, None, None)  # lifespan shutdown
    again = make_client(collectors=[MemoryCollector()], tick=60, thresholds=CALM, data_dir=tmp_path)
    old = [e for e in again.get("/api/events").json()["events"] if e["id"] == first["id"]]
    assert len(old) == 1 and old[0]["interrupted"] is True and old[0]["end"] is not None


def test_alert_rules_render_the_configured_thresholds(console):
    th = {**CRIT, "mounts": {"/srv/data": {"disks_percent": {"warning": 60, "critical": 70}}}}
    r = console(th).get("/api/alert-rules")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    rules = yaml.safe_load(r.text)["groups"][0]["rules"]
    mem = [x for x in rules if x["labels"].get("check") == "memory_percent"]
    assert [x["labels"]["severity"] for x in mem] == ["warning", "critical"]
    assert mem[1]["expr"].startswith('(server_monitor_check_value{check="memory_percent"} >= 0.02)')
    assert "for" not in mem[0]  # for = 0: fires on the first evaluation
    fs = [x["expr"] for x in rules if x["labels"].get("check") == "disks_percent"]
    assert any('subject!~"/srv/data"' in e and ">= 85" in e for e in fs)  # default for the rest
    assert any('subject="/srv/data"' in e and ">= 60" in e for e in fs)  # the override
    cpu = next(x for x in rules if x["labels"].get("check") == "cpu_percent")
    assert cpu["for"] == "60s" and ">= 80 and on(instance, job, subject) ALERTS{" in cpu["expr"]


def test_deploy_rules_are_the_defaults():
    """deploy/alert-rules.yml is generated: `python -m monitor.alert_rules > deploy/alert-rules.yml`."""
    printed = subprocess.run([sys.executable, "-m", "monitor.alert_rules"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    assert (ROOT / "deploy/alert-rules.yml").read_text() == printed == alert_rules.render(Thresholds())
    last = [r["alert"] for r in yaml.safe_load(printed)["groups"][0]["rules"][-2:]]
    assert last == ["ServerMonitorCollectorFailing", "ServerMonitorVerdictUnknown"]


def test_banner_on_the_dashboard_and_in_the_stream(console):
    c = console(WARN)
    page = c.get("/dashboard").text
    assert 'id="health" sse-swap="health"' in page and 'data-overall="warning"' in page
    assert "1 of 1 checks need attention" in page
    app = c.app
    snap = app.state.store.latest
    sse = b"".join(data for _, data in event_parts(app.state.store, snap, app.state.card_areas,
                                                   health_banner(app.state.judge.events))).decode()
    assert "event: health\r\n" in sse or "event: health\n" in sse
    assert 'data-overall="warning"' in sse


# --- the scenario: a real filesystem filled by the test ------------------------------------------
def _mount_of(path: Path, filesystems: list[dict]) -> dict:
    best = None
    for f in filesystems:
        for mp in [f["mountpoint"], *f["also_mounted_at"]]:
            if (str(path) + "/").startswith(mp.rstrip("/") + "/") and (best is None or len(mp) > len(best[0])):
                best = (mp, f)
    assert best is not None, f"no filesystem listed for {path}"
    return best[1]


def _wait(url: str, want: int, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        r = httpx.get(url, timeout=5)
        if r.status_code == want or time.monotonic() > deadline:
            return r
        time.sleep(0.5)


@pytest.fixture
def small_filesystem(tmp_path):
    """A 64 MiB ext4 filesystem on a loop device, mounted by the test (root only).

    Filling it takes megabytes, not gigabytes, so the scenario runs on any free disk.
    """
    if os.geteuid() != 0 and not IN_CI:
        pytest.skip("mounting a loop filesystem needs root (CI runs as root)")
    image, mnt = tmp_path / "fs.img", tmp_path / "mnt"
    mnt.mkdir()
    with open(image, "wb") as f:
        f.truncate(64 * 2**20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_filling_a_filesystem_goes_critical_then_recovers(spawn_server, tmp_path, small_filesystem):
    """Fill a small real filesystem; /api/health turns 503 naming the mount; empty it; back to 200."""
    mp = str(small_filesystem)
    th = {"mounts": {mp: {"disks_percent": {"enabled": True, "warning": 50, "critical": 70,
                                          "clear": 40, "for": 0}}}}
    data = tmp_path / "data"
    server = spawn_server(env={"SERVER_MONITOR_DATA_DIR": str(data),
                               "SERVER_MONITOR_THRESHOLDS": json.dumps(th)})
    health = server.url + "/api/health"
    fs = _mount_of(small_filesystem, httpx.get(server.url + "/api/disks").json()["disks"]["filesystems"])
    assert fs["mountpoint"] == mp and fs["percent"] < 40
    assert not [v for v in httpx.get(health).json()["verdicts"] if v.get("subject") == mp]
    filler = small_filesystem / "fill.bin"
    try:
        st = os.statvfs(small_filesystem)
        total, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
        need = int(0.85 * total) - (total - free)  # bring df's use to about 85 %
        with open(filler, "wb") as f:
            f.write(os.urandom(need))  # real data blocks
            f.flush()
            os.fsync(f.fileno())
        r = _wait(health, 503)
        assert r.status_code == 503, r.text
        [v] = [v for v in r.json()["verdicts"] if v["check"] == "disks_percent" and v["subject"] == mp]
        assert v["state"] == "critical"
        assert v["reason"].startswith(f"{mp} is ") and "% full (critical at 70 %)" in v["reason"]
    finally:
        filler.unlink(missing_ok=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        verdicts = httpx.get(health).json()["verdicts"]
        if not [v for v in verdicts if v.get("subject") == mp]:
            break
        time.sleep(0.5)
    assert not [v for v in verdicts if v.get("subject") == mp], verdicts
    events = server.get("/api/events").json()["events"]
    mine = [e for e in events if e["check"] == "disks_percent" and e.get("subject") == mp]
    assert mine and mine[0]["end"] is not None


def test_limits_for_a_cards_hover_text(console):
    from views.health import limits
    snap = console(WARN).app.state.store.latest
    assert limits(snap, "memory_percent") == "warning: warning at 0.01 %, critical at 100 %"
    assert limits(snap, "no_such_check") == ""
    for v in snap.verdicts:  # each (check, subject) worded from its own verdict
        assert limits(snap, v.check, v.subject).startswith(f"{v.state}: "), v
    # Mount points are subjects: each has its own levels (a per-mount override).
    from tests.test_templating import verdict
    from monitor.store import Snapshot
    mounts = Snapshot(seq=1, taken_at=0.0, areas={}, unavailable={}, verdicts=(
        verdict("disks", "ok", subject="/"),
        verdict("disks", "critical", subject="/srv").model_copy(update={"critical": 70.0})))
    assert limits(mounts, "disks_percent", "/") == "ok: warning at 80 %, critical at 90 %"
    assert limits(mounts, "disks_percent", "/srv") == "critical: warning at 80 %, critical at 70 %"
    assert limits(mounts, "disks_percent", "/no/such/mount") == "" == limits(mounts, "disks_percent")


def test_card_values_show_their_thresholds_on_hover(make_client, tmp_path):
    c = make_client(tick=60, data_dir=tmp_path,
                    thresholds={"cpu_percent": {"warning": 91, "critical": 99, "clear": 85}})
    page = c.get("/dashboard").text
    cpu = re.search(r'data-metric="cpu.percent" title="([^"]*)"', page)
    assert cpu and "warning at 91 %" in cpu.group(1) and "critical at 99 %" in cpu.group(1)
    mem = re.search(r'data-metric="memory.percent" title="([^"]*)"', page)
    assert mem and "warning at 90 %" in mem.group(1)
