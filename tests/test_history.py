"""JSON for disks, network and sensors, and /api/history windows (TestClient, real psutil)."""
from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest

from monitor.collectors.cpu import CpuCollector
from monitor.collectors.disks import DisksCollector
from monitor.collectors.network import NetworkCollector
from monitor.collectors.sensors import SensorsCollector


@pytest.fixture
def fast(make_client):
    """A console ticking every 0.2 s with the areas of this issue (plus cpu), history 60 s."""
    return make_client(collectors=[CpuCollector(), DisksCollector(), NetworkCollector(),
                                   SensorsCollector()], tick=0.2, history_seconds=60)


def wait_for_points(client, metric: str, n: int, limit_s: float = 10.0) -> list:
    deadline = time.monotonic() + limit_s
    points: list = []
    while time.monotonic() < deadline:
        r = client.get(f"/api/history/{metric}", params={"seconds": 60})
        if r.status_code == 200:
            points = r.json()["points"]
            if len(points) >= n:
                break
        time.sleep(0.1)
    return points


def test_area_endpoints(fast):
    disks = fast.get("/api/disks")
    assert disks.status_code == 200
    body = disks.json()
    assert body["seq"] >= 1 and body["taken_at"] > 0
    root = next(fs for fs in body["disks"]["filesystems"] if fs["mountpoint"] == "/")
    assert {"total", "used", "free", "percent", "inodes_percent", "full_in", "read_only"} <= root.keys()

    net = fast.get("/api/network").json()["network"]
    assert "lo" in net["hidden"]
    assert {"interfaces", "tcp", "tcp_total", "bytes_recv_per_s"} <= net.keys()

    sensors = fast.get("/api/sensors").json()["sensors"]
    assert {"present", "temperatures", "fans", "battery", "hottest"} <= sensors.keys()


def test_snapshot_includes_the_new_areas(fast):
    snap = fast.get("/api/snapshot").json()
    assert snap["disks"]["filesystems"] and snap["network"] is not None and snap["sensors"] is not None
    assert snap["unavailable"] == {}


def test_openapi_documents_the_history_routes(fast):
    paths = fast.get("/openapi.json").json()["paths"]
    assert "/api/history" in paths and "/api/history/{metric}" in paths
    assert "/api/disks" in paths and "/api/network" in paths and "/api/sensors" in paths


def test_history_lists_metric_names(fast):
    wait_for_points(fast, "cpu.percent", 2)
    body = fast.get("/api/history").json()
    assert body["seconds"] == 60
    names = body["metrics"]
    assert {"cpu.percent", "disks./.percent", "disks.read_bytes_per_s",
            "network.bytes_recv_per_s", "network.bytes_sent_per_s"} <= set(names)
    assert names == sorted(names)


def test_history_points_are_time_value_pairs_within_the_window(fast):
    points = wait_for_points(fast, "cpu.percent", 8)
    assert len(points) >= 8
    times = [t for t, _ in points]
    assert times == sorted(times)
    assert all(0 <= v <= 100 for _, v in points)

    short = fast.get("/api/history/cpu.percent", params={"seconds": 1}).json()
    assert short["metric"] == "cpu.percent" and short["seconds"] == 1
    assert 1 <= len(short["points"]) < len(points)
    newest = short["points"][-1][0]
    assert all(newest - t <= 1.0 for t, _ in short["points"])


def test_metric_names_with_slashes(fast):
    points = wait_for_points(fast, "disks./.percent", 2)
    assert len(points) >= 2
    assert all(0 <= v <= 100 for _, v in points)


@pytest.mark.parametrize("seconds, says", [
    ("0", "greater than or equal to 1"),
    ("-5", "greater than or equal to 1"),
    ("abc", "valid integer"),
    ("1.5", "valid integer"),
    ("61", "at most 60"),
    ("99999999", "less than or equal to 86400"),  # past any console's history: the schema's bound
])
def test_bad_seconds_is_422_with_a_reason(fast, seconds, says):
    r = fast.get("/api/history/cpu.percent", params={"seconds": seconds})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/json")
    detail = r.json()["detail"]
    assert "seconds" in detail and says in detail


def test_unknown_metric_is_404(fast):
    r = fast.get("/api/history/cpu.nonsense")
    assert r.status_code == 404
    assert "cpu.nonsense" in r.json()["detail"]


def test_history_answer_is_made_once_per_snapshot(fast):
    wait_for_points(fast, "cpu.percent", 2)
    app = fast.app
    snap = app.state.store.latest
    fast.get("/api/history/cpu.percent", params={"seconds": 30})
    made = snap._memo.get("json:history:30:cpu.percent")
    if app.state.store.latest is snap:  # still the same tick: the second request reuses the bytes
        fast.get("/api/history/cpu.percent", params={"seconds": 30})
        assert snap._memo["json:history:30:cpu.percent"] is made
    assert made is not None and b'"metric":"cpu.percent"' in made


PARTIALS = Path(__file__).resolve().parent.parent / "partials"


def test_every_data_metric_in_the_partials_is_one_of_its_areas_series():
    """A card's data-metric names a history series of its own area: "<area>.<series>" (the
    series part may be drawn from the data, e.g. the fullest mount point's)."""
    found = 0
    for path in PARTIALS.glob("*.html"):
        for name in re.findall(r'data-metric="([^"]*)"', path.read_text()):
            found += 1
            assert name.startswith(f"{path.stem}."), (path.name, name)
    assert found >= 10


def test_every_data_metric_on_the_dashboard_names_a_real_series(make_client):
    client = make_client(tick=0.2, history_seconds=60)
    wait_for_points(client, "cpu.percent", 3)
    wait_for_points(client, "network.bytes_recv_per_s", 2)
    page = client.get("/dashboard").text
    names = set(client.get("/api/history").json()["metrics"])
    shown = {html.unescape(m) for m in re.findall(r'data-metric="([^"]*)"', page)}
    assert {"cpu.percent", "memory.percent", "disks.read_bytes_per_s", "processes.total"} <= shown
    assert any(m.startswith("disks./") for m in shown)  # the fullest filesystem's own series
    assert shown - names == set()
