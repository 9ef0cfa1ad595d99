"""History in Chromium and across a kill -9: a spike placed by the test (a busy process it
started, recorded through HistoryDB's API as a generated minute) shows on the /history chart, hover
and keys show its time and value, a click opens its moment with that process; the display scope
gets the charts and no moment links; a real console killed with SIGKILL keeps its minutes."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import psutil
import pytest

from monitor.collectors.cpu import CpuCollector
from monitor.collectors.processes import ProcessesCollector
from monitor.history.db import Minute
from tests.conftest import make_settings


@pytest.fixture
def busy():
    """A real busy process (it spins until killed)."""
    p = subprocess.Popen([sys.executable, "-c", "while True: pass", "history-spike-test"])
    yield p
    p.kill()
    p.wait(5)


def served(serve_app, tmp_path):
    from main import create_app
    app = create_app(make_settings(data_dir=tmp_path, tick=0.5), collectors=[CpuCollector(), ProcessesCollector()])
    url = serve_app(app)
    db = app.state.history
    deadline = time.monotonic() + 10
    while not db.ready and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db.ready
    return url, db


def place_spike(db, proc: psutil.Process) -> int:
    m0 = int((time.time() - 1800) // 60)  # 30 min ago: beyond the ring, inside a 1 h chart
    top = {"pid": proc.pid, "started": proc.create_time(), "name": proc.name(),
           "command": " ".join(proc.cmdline()), "cpu_percent": 99.0, "rss": proc.memory_info().rss,
           "unit": None}
    db.write_many([Minute(m, {"cpu.percent": (95.0, 98.0, 100.0, 60) if m == m0 else (1.0, 2.0, 3.0, 60)},
                          top={"cpu": [top] if m == m0 else [], "memory": []})
                   for m in range(m0 - 20, m0 + 10)])
    return m0


def test_spike_on_the_chart_and_its_process_at_that_moment(serve_app, watched_page, tmp_path, busy):
    url, db = served(serve_app, tmp_path)
    proc = psutil.Process(busy.pid)
    m0 = place_spike(db, proc)
    page = watched_page.page
    page.goto(url + "/history?range=1h")
    svg = page.locator('figure[data-metric="cpu.percent"] svg.hchart')
    # The placed minute's points (the live ring may show real values near 98 % on a loaded machine).
    near = svg.locator("rect.hhit", has=page.locator("title", has_text="98.0 %"))
    mine = [i for i in range(near.count()) if int(near.nth(i).get_attribute("data-t")) // 60 == m0]
    assert len(mine) == 1, [near.nth(i).get_attribute("data-t") for i in range(near.count())]
    hot = near.nth(mine[0])
    t = int(hot.get_attribute("data-t"))
    assert t // 60 == m0  # a 1 h chart has 15 s steps: the point is that minute
    assert float(hot.get_attribute("data-y")) < 20  # near the top of the plot (100 % is y=10)
    assert svg.locator("path.hband").count() >= 1 and svg.locator("path.hline").count() >= 1
    readout = page.locator('figure[data-metric="cpu.percent"] .history-readout')
    hot.hover()
    assert "98.0 %" in readout.inner_text() and "max 100.0 %" in readout.inner_text()
    svg.focus()
    page.keyboard.press("End")
    last = readout.inner_text()
    page.keyboard.press("ArrowLeft")
    assert readout.inner_text() != last and readout.inner_text()
    hot.click()
    page.wait_for_url(f"**/history/at/{t}?tz=*")  # in the browser's zone (static/history.js)
    top = page.locator("#moment-top")
    assert str(proc.pid) in top.inner_text() and "history-spike-test" in top.inner_text()
    assert page.locator("#moment-top a[href^='/processes/%d?started=']" % proc.pid).count() == 1
    # On a 6 h chart a point is two minutes: its click opens the minute where cpu.percent peaked.
    page.goto(url + "/history?range=6h")
    # The point over the placed minute (the live ring can reach 100 % too on a loaded machine).
    points = page.locator('figure[data-metric="cpu.percent"] rect.hhit', has=page.locator("title", has_text="max 100.0 %"))
    spans = [(i, int(points.nth(i).get_attribute("data-t"))) for i in range(points.count())]
    mine = [i for i, t in spans if abs(t - m0 * 60) <= 180]
    assert len(mine) == 1, spans
    wide = points.nth(mine[0])
    wide.click()
    page.wait_for_url(f"**/history/at/{m0 * 60}?tz=*")
    assert "history-spike-test" in page.locator("#moment-top").inner_text()
    watched_page.assert_clean()


def test_display_scope_sees_charts_without_moments(serve_app, browser, tmp_path, busy):
    url, db = served(serve_app, tmp_path)
    place_spike(db, psutil.Process(busy.pid))
    ctx = browser.new_context()
    errors: list[str] = []
    page = ctx.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/history?range=1h")
    hot = page.locator('figure[data-metric="cpu.percent"] rect.hhit', has=page.locator("title", has_text="98.0 %"))
    hot.click()
    page.wait_for_timeout(300)
    assert "/history/at/" not in page.url and "history-spike-test" not in page.content()
    assert errors == []
    ctx.close()


def test_minutes_survive_kill_9(spawn_server, tmp_path):
    server = spawn_server({"SERVER_MONITOR_DATA_DIR": str(tmp_path)})
    path = tmp_path / "history.sqlite"
    deadline = time.monotonic() + 80  # the first minute boundary comes within 60 s
    written: list[int] = []
    while time.monotonic() < deadline and not written:
        time.sleep(1)
        if path.exists():
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:
                written = [m for (m,) in c.execute("SELECT minute FROM minute")]
    assert written, "no minute written within 80 s"
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    again = spawn_server({"SERVER_MONITOR_DATA_DIR": str(tmp_path)})
    since = (min(written) - 20) * 60  # on a minute: each evaluation time is a minute's first second
    body = again.get("/api/history/cpu.percent", params={"since": str(since), "step": "60"}).json()
    assert body["source"] == "rollups"
    assert {m * 60 for m in written} <= {t for t, _ in body["points"]}
    assert not list(tmp_path.glob("history.sqlite.corrupt-*"))
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA quick_check").fetchone()[0] == "ok"
