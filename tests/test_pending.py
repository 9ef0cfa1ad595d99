"""Pending is shown (issue 12, item 4): a value past a level but inside its hold leaves the state as
it is, and /api/health's ``pending``, the text answer, the banner and the card say what is coming."""
from __future__ import annotations

import json

import pytest

from monitor.collectors.memory import MemoryCollector
from monitor.thresholds import Threshold
from monitor.trackers import Levels, Tracker

# Memory is above 0.02 % used on any running machine: past both levels, inside a 40 s hold.
HELD = {"memory_percent": {"warning": 0.01, "critical": 0.02, "for": 40, "clear": 0}}
LONG = {"memory_percent": {"warning": 0.01, "critical": 0.02, "for": 3600, "clear": 0},
        "cpu_percent": {"warning": 0.001, "critical": 0.002, "for": 3600, "clear": 0}}


def test_tracker_pending_counts_down_and_goes_when_reached_or_dropped():
    lv = Levels.of(Threshold(warning=90, critical=98, for_=60, clear=80))
    t = Tracker()
    assert t.step(0, 95, lv) == "ok" and t.pending(0, lv) == ("warning", 60)
    assert t.step(20, 99, lv) == "ok" and t.pending(20, lv) == ("critical", 60)
    assert t.step(60, 99, lv) == "warning" and t.pending(60, lv) == ("critical", 20)
    assert t.step(80, 99, lv) == "critical" and t.pending(80, lv) is None
    t2 = Tracker()
    t2.step(0, 95, lv)
    t2.step(10, 50, lv)  # dropped under the level: nothing is coming
    assert t2.pending(10, lv) is None


def test_api_health_lists_pending_with_the_state_unchanged(make_client, tmp_path):
    c = make_client(collectors=[MemoryCollector()], tick=60, thresholds=HELD, data_dir=tmp_path)
    r = c.get("/api/health")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok" and body["verdicts"] == []
    [p] = body["pending"]
    assert (p["check"], p["area"], p["subject"], p["level"]) == ("memory_percent", "memory", "", "critical")
    assert 0 < p["in_seconds"] <= 40
    assert p["reason"] == f"memory_percent critical in {round(p['in_seconds'])} s if it stays"
    text = c.get("/api/health?format=text").text
    assert "PENDING  memory_percent critical in " in text and " s if it stays" in text
    page = c.get("/dashboard").text
    assert 'class="pending-item pending-critical" data-check="memory_percent"' in page
    assert "memory_percent critical in " in page
    assert 'class="card-pending pending-critical" data-check="memory_percent"' in page  # the card


def test_nothing_pending_when_nothing_is_past_a_level(make_client, tmp_path):
    calm = {"memory_percent": {"warning": 99.9, "critical": 100, "for": 40, "clear": 99}}
    c = make_client(collectors=[MemoryCollector()], tick=60, thresholds=calm, data_dir=tmp_path)
    assert c.get("/api/health").json()["pending"] == []
    assert "pending-item" not in c.get("/dashboard").text


@pytest.fixture
def held(spawn_server, tmp_path):
    return spawn_server(env={"SERVER_MONITOR_DATA_DIR": str(tmp_path),
                             "SERVER_MONITOR_THRESHOLDS": json.dumps(LONG)})


def test_banner_and_card_show_the_pending_line(held, watched_page):
    page = watched_page.page
    page.goto(held.url + "/dashboard")
    line = page.locator('#health .pending-item[data-check="memory_percent"] .pending-text')
    line.wait_for(timeout=10_000)
    text = line.inner_text()
    assert text.startswith("memory_percent critical in ") and text.endswith(" if it stays")
    assert page.locator("#memory .card-title .state").first.inner_text().strip().lower() == "ok"
    assert "critical in" in page.locator("#memory .card-title .card-pending").inner_text()
    watched_page.assert_clean()


def test_a_cards_pending_is_its_areas_worst_then_soonest_and_nothing_else():
    from types import SimpleNamespace as V

    from monitor.store import Snapshot
    verdicts = (V(area="disks", check="a", pending="warning", pending_in=5.0),
                V(area="disks", check="b", pending="critical", pending_in=30.0),
                V(area="disks", check="c", pending="critical", pending_in=10.0),
                V(area="disks", check="d", pending=None, pending_in=None),
                V(area="disks", check="e", pending="critical", pending_in=None),
                V(area="memory", check="f", pending="warning", pending_in=1.0))
    snap = Snapshot(seq=1, taken_at=0.0, areas={}, unavailable={}, verdicts=verdicts)
    assert [v.check for v in snap.pending_of("disks")] == ["c", "b", "a"]
    assert [v.check for v in snap.pending_of("memory")] == ["f"]
    assert snap.pending_of("cpu") == []
