"""/api/history range queries and moments, /history pages and their scopes (TestClient, real
SQLite in a temporary data_dir, minutes written through HistoryDB)."""
from __future__ import annotations

import os
import time

import pytest

from monitor.collectors.cpu import CpuCollector
from monitor.collectors.memory import MemoryCollector
from monitor.collectors.processes import ProcessesCollector
from monitor.history.db import Minute


def ready(client):
    db = client.app.state.history
    deadline = time.monotonic() + 10
    while not db.ready and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db.ready, db.error
    return db


@pytest.fixture
def console(make_client, tmp_path):
    c = make_client(collectors=[CpuCollector(), MemoryCollector(), ProcessesCollector()],
                    tick=0.2, data_dir=tmp_path)
    return c, ready(c)


SPIKE_AGO = 3 * 3600  # the spike minute: three hours ago, far outside the ring


def spike(db, pid: int, name: str, command: str) -> int:
    """Two hours of quiet cpu.percent minutes around one at 97 %, whose top process is ``pid``."""
    m0 = int((time.time() - SPIKE_AGO) // 60)
    proc = {"pid": pid, "started": 1.0, "name": name, "command": command, "cpu_percent": 99.5,
            "rss": 50 << 20, "unit": "test.scope"}
    minutes = []
    for m in range(m0 - 60, m0 + 60):
        hot = m == m0
        minutes.append(Minute(m, {"cpu.percent": (90.0 if hot else 1.0, 97.0 if hot else 2.0,
                                                   100.0 if hot else 3.0, 60)},
                              top={"cpu": [proc] if hot else [], "memory": []},
                              logs={"counts": {"syslog": 3 if hot else 0},
                                    "lines": [{"time": m * 60 + 5, "source": "syslog", "level": "err",
                                               "message": "kernel: spike happened"}] if hot else []},
                              verdicts=[{"check": "cpu_percent", "subject": "", "area": "cpu",
                                         "state": "critical", "value": 97.0, "unit": "%",
                                         "reason": "CPU 97 % (critical at 95 %)"}] if hot else []))
    db.write_many(minutes)
    return m0


def test_seconds_still_answers_from_the_ring(console):
    client, _ = console
    deadline = time.monotonic() + 10
    body = {}
    while time.monotonic() < deadline and not body.get("points"):
        time.sleep(0.2)
        body = client.get("/api/history/cpu.percent", params={"seconds": 60}).json()
    assert body["seconds"] == 60 and body["points"]


def test_an_old_range_reads_the_rollups(console):
    client, db = console
    m0 = spike(db, os.getpid(), "spiker", "python spiker --secret=[masked]")
    r = client.get("/api/history/cpu.percent", params={"since": str((m0 - 30) * 60),
                                                       "until": str((m0 + 30) * 60), "step": "1m"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "rollups" and body["step"] == 60
    assert len(body["points"]) == 61
    assert max(body["points"], key=lambda p: p[1]) == [m0 * 60, 97.0]
    assert [m0 * 60, 90.0, 100.0] in body["bands"]
    rfc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((m0 - 30) * 60))
    again = client.get("/api/history/cpu.percent", params={"since": rfc, "until": str((m0 + 30) * 60),
                                                           "step": "60"}).json()
    assert again["points"] == body["points"]


def test_a_recent_range_reads_the_ring(console):
    client, _ = console
    deadline = time.monotonic() + 10  # cpu.percent needs two reads; a loaded machine is slow
    body = {}
    while time.monotonic() < deadline and not body.get("points"):
        time.sleep(0.2)
        body = client.get("/api/history/cpu.percent", params={"since": "1m", "step": "1"}).json()
    assert body["source"] == "ring" and body["points"]


@pytest.mark.parametrize("params, why", [
    ({"since": "1h", "until": "2h"}, "must not be before"),
    ({"since": "1h", "step": "0"}, "zero or negative"),
    ({"since": "30d", "step": "1"}, "more than 11000"),
    ({"since": "last tuesday"}, "is not a time"),
    ({"since": "1h", "seconds": "60"}, "not both"),
])
def test_bad_ranges_are_422_with_the_reason(console, params, why):
    client, _ = console
    r = client.get("/api/history/cpu.percent", params=params)
    assert r.status_code == 422 and why in r.json()["detail"]


def test_a_moment_has_the_top_process_the_verdicts_and_the_log_lines(console):
    client, db = console
    m0 = spike(db, 4242, "spiker", "python spiker --secret=[masked]")
    r = client.get(f"/api/history/at/{m0 * 60 + 30}")
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["recorded"] and m["state"] == "critical" and m["minute"] == m0 * 60
    assert m["top_cpu"][0]["name"] == "spiker" and m["top_cpu"][0]["pid"] == 4242
    assert m["log_counts"] == {"syslog": 3} and m["log_lines"][0]["message"] == "kernel: spike happened"
    # What changed: the 5 minutes up to it (one at 97 %, four at 2 %) against the 30 before (2 %).
    change = next(c for c in m["changes"] if c["metric"] == "cpu.percent")
    assert change["before"] == pytest.approx(2.0) and change["recent"] == pytest.approx(21.0)
    page = client.get(f"/history/at/{m0 * 60 + 30}")
    assert page.status_code == 200 and "spiker" in page.text and "python spiker" in page.text
    assert f"/logs?source=syslog&level=err&since={m0 * 60 - 120}&until={m0 * 60 + 180}" in page.text
    assert client.get("/api/history/at/2999-01-01T00:00:00Z").status_code == 422
    wide = client.get(f"/history/at/{m0 * 60 + 300}", params={"peak": "cpu.percent", "within": 600},
                      follow_redirects=False)
    assert wide.status_code == 303 and wide.headers["location"] == f"/history/at/{m0 * 60}"
    assert client.get("/api/history/at/soon").status_code == 422


def test_the_display_scope_gets_charts_but_no_moment(make_client, tmp_path):
    full = make_client(collectors=[CpuCollector()], tick=0.2, data_dir=tmp_path)
    db = ready(full)
    m0 = spike(db, 4242, "spiker", "python spiker --token=[masked]")
    anon = make_client(collectors=[CpuCollector()], tick=0.2, data_dir=tmp_path / "other", credential=False)
    page = anon.get("/history", params={"range": "6h"})
    assert page.status_code == 200 and 'class="hchart"' in page.text
    assert "data-moment" not in page.text and "/history/at/" not in page.text
    assert anon.get(f"/api/history/at/{m0 * 60}").status_code == 401
    moment = anon.get(f"/history/at/{m0 * 60}", headers={"accept": "text/html"}, follow_redirects=False)
    assert moment.status_code == 303 and moment.headers["location"].startswith("/login")
    assert anon.get("/api/history/cpu.percent", params={"since": "1h"}).status_code == 200
    assert 'data-moment="/history/at/"' in full.get("/history", params={"range": "6h"}).text


def test_history_page_ranges_and_bad_values(console):
    client, db = console
    spike(db, 4242, "spiker", "x")
    for r in ("15m", "1h", "6h", "24h", "7d", "30d"):
        page = client.get("/history", params={"range": r})
        assert page.status_code == 200 and page.text.count('class="hchart"') >= 2, r
    custom = client.get("/history", params={"since": "2026-01-01T00:00", "until": "2026-01-01T06:00",
                                            "tz": "UTC"})
    assert custom.status_code == 200 and "2026-01-01 00:00:00 UTC" in custom.text
    assert client.get("/history", params={"area": "cpu"}).text.count('class="hchart"') >= 2
    for bad in ({"range": "2y"}, {"tz": "../../etc/passwd"}, {"tz": "Mars/Olympus"},
                {"since": "2026-01-02T00:00", "until": "2026-01-01T00:00"}, {"area": "CPU!"}):
        r = client.get("/history", params=bad, headers={"accept": "text/html"})
        assert r.status_code == 422, (bad, r.status_code)
    assert client.get("/history", params={"metric": "no.such"}).status_code == 404


def test_api_history_lists_stored_series_and_the_cap(make_client, tmp_path):
    client = make_client(collectors=[CpuCollector()], tick=0.2, data_dir=tmp_path, history_series_max=10)
    db = ready(client)
    db.write_many([Minute(int(time.time() // 60) - 5, {f"network.veth{i}.bytes_recv_per_s": (1, 1, 1, 1)
                                                       for i in range(12)})])
    time.sleep(0.3)  # the next snapshot: /api/history is made once per snapshot
    body = client.get("/api/history").json()
    # The recorder may have stored the cpu series first: ten stored, the rest said, none lost unsaid.
    assert len(body["stored"]) == 10 and len(body["series_dropped"]) >= 2
    veths = {f"network.veth{i}.bytes_recv_per_s" for i in range(12)}
    assert veths <= set(body["stored"]) | set(body["series_dropped"])
    assert body["series_max"] == 10 and body["keep_days"] == 30 and body["database"] is None


def test_episodes_and_reboots_are_drawn_on_the_time_axis(make_client, tmp_path):
    import psutil
    (tmp_path / "boot_time").write_text(f"{psutil.boot_time() - 86400}\n")  # booted since: a reboot
    warn = {"memory_percent": {"warning": 0.01, "critical": 100, "for": 0, "clear": 0}}
    client = make_client(collectors=[MemoryCollector()], tick=0.2, data_dir=tmp_path, thresholds=warn)
    ready(client)
    time.sleep(0.8)  # a few judged ticks: the memory episode opens (warning, no hold)
    page = client.get("/history", params={"area": "memory", "range": "15m"}).text
    assert 'class="ev ev-warning"' in page and "memory" in page
    boot = psutil.boot_time()
    around = client.get("/history", params={"area": "memory", "since": str(int(boot - 600)),
                                            "until": str(int(boot + 600))}).text
    assert 'class="ev-reboot"' in around and "host rebooted at" in around


def test_hostile_names_stay_text_on_both_pages(console):
    from tests.htmlcheck import inline_code
    client, db = console
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    m0 = spike(db, 4242, "x" + evil, "cmd " + evil)
    db.write_many([Minute(m0, {f"network.eth{evil}.bytes_recv_per_s": (1.0, 2.0, 3.0, 60)},
                          top={"cpu": [{"pid": 4242, "started": 1.0, "name": evil, "command": evil,
                                        "cpu_percent": 1.0, "rss": 1, "unit": evil}], "memory": []})])
    for url in ("/history?area=network&range=6h", f"/history/at/{m0 * 60}"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert inline_code(page.text) == [] and "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(f"/history/at/{m0 * 60}").text
