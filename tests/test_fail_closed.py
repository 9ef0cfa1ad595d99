"""Verdicts fail closed, end to end: a judgment that raises, a check whose reading is broken, an
area that cannot be read: /api/health, its text, the banner and /metrics say "unknown" with the
reason (503 by default), never "all ok"; and an open episode survives the bad ticks.

Real collectors on the real host; faults are injected by wrapping the judge or one collector.
"""
from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor import health
from monitor.collectors.memory import MemoryCollector

CRIT = {"memory_percent": {"warning": 0.01, "critical": 0.02, "for": 0, "clear": 0}}


def wait_for(check, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.fixture
def failing_judge(monkeypatch):
    """Judge.__call__ raises while ``fault["on"]`` (a bug in judging, e.g. undecodable text)."""
    fault = {"on": False}
    real = health.Judge.__call__

    def judge(self, snap, history=None):
        if fault["on"]:
            raise UnicodeEncodeError("utf-8", "x\udcff", 1, 2, "surrogates not allowed")
        return real(self, snap, history)

    monkeypatch.setattr(health.Judge, "__call__", judge)
    return fault


def metrics(client) -> dict:
    return {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}


def test_a_failed_judgment_is_unknown_everywhere(make_client, tmp_path, failing_judge):
    c = make_client(collectors=[MemoryCollector()], tick=0.2, data_dir=tmp_path)
    assert c.get("/api/health").json()["status"] == "ok"
    failing_judge["on"] = True
    r = wait_for(lambda: (r := c.get("/api/health")).json()["status"] == "unknown" and r, "unknown")
    body = r.json()
    assert r.status_code == 503
    assert body["reason"] == "not judged: judging failed: UnicodeEncodeError: 'utf-8' codec can't " \
                             "encode character '\\udcff' in position 1: surrogates not allowed"
    assert body["checks"] == 0 and body["verdicts"] == []
    text = c.get("/api/health", params={"format": "text"}).text
    assert text.startswith("unknown: not judged: judging failed: UnicodeEncodeError") and "all 0" not in text
    page = c.get("/dashboard").text
    assert 'data-overall="unknown"' in page and "not judged: judging failed" in page
    assert "all 0 checks ok" not in page
    assert 'class="state state-unknown">unknown<' in page  # the memory card does not say ok
    fams = metrics(c)
    assert fams["server_monitor_state"].samples[0].value == 3
    assert fams["server_monitor_judged"].samples[0].value == 0
    failing_judge["on"] = False
    wait_for(lambda: c.get("/api/health").json()["status"] == "ok", "judged again")
    assert metrics(c)["server_monitor_judged"].samples[0].value == 1


def test_the_unknown_status_code_is_a_setting(make_client, tmp_path, failing_judge):
    failing_judge["on"] = True
    c = make_client(collectors=[MemoryCollector()], tick=60, data_dir=tmp_path, health_status_unknown=500)
    r = c.get("/api/health")
    assert (r.status_code, r.json()["status"]) == (500, "unknown")


class BrokenReading(MemoryCollector):
    """Real memory figures, but swap's percentage is NaN (a driver or parsing bug)."""

    def collect(self, now):
        data = super().collect(now)
        return data.model_copy(update={"swap_total": max(data.swap_total, 1), "swap_percent": float("nan")})


def test_a_broken_reading_makes_only_its_check_unknown(make_client, tmp_path):
    c = make_client(collectors=[BrokenReading()], tick=60, data_dir=tmp_path, thresholds=CRIT)
    r = c.get("/api/health")
    body = r.json()
    assert r.status_code == 503 and body["status"] == "critical"  # a known critical is the headline
    by_check = {v["check"]: v for v in body["verdicts"]}
    assert by_check["memory_percent"]["state"] == "critical"  # still judged
    swap = by_check["memory_swap_percent"]
    assert (swap["state"], swap["value"]) == ("unknown", None)
    assert swap["reason"] == "swap used cannot be judged: ValueError: the reading is nan, not a number"
    states = {s.labels["check"]: s.value for s in metrics(c)["server_monitor_verdict_state"].samples}
    assert states == {"memory_percent": 2, "memory_swap_percent": 3}
    assert "UNKNOWN  memory_swap_percent: swap used cannot be judged" in c.get("/api/health?format=text").text


class Unreadable(MemoryCollector):
    def collect(self, now):
        raise PermissionError(13, "Permission denied", "/proc/meminfo")


def test_an_unreadable_area_has_its_checks_unknown_not_skipped(make_client, tmp_path):
    c = make_client(collectors=[Unreadable()], tick=60, data_dir=tmp_path)
    r = c.get("/api/health")
    body = r.json()
    assert (r.status_code, body["status"]) == (503, "unknown")
    assert body["reason"] == "2 checks could not be judged"
    assert {(v["check"], v["state"]) for v in body["verdicts"]} == {("memory_percent", "unknown"),
                                                                    ("memory_swap_percent", "unknown")}
    assert all("memory could not be read: PermissionError" in v["reason"] for v in body["verdicts"])
    text = c.get("/api/health?format=text").text.splitlines()
    assert text[0].startswith("unknown: 2 of 2 checks not ok")
    # One line for the one cause, not one per check.
    assert text[1:] == ["UNKNOWN  memory: could not be read: PermissionError: [Errno 13] Permission "
                        "denied: '/proc/meminfo' (2 checks cannot be judged)"]
    banner = c.get("/dashboard").text
    assert 'data-overall="unknown"' in banner and "memory could not be read: PermissionError" in banner


def test_an_open_episode_survives_failed_judgments(make_client, tmp_path, failing_judge):
    c = make_client(collectors=[MemoryCollector()], tick=0.2, data_dir=tmp_path, thresholds=CRIT)
    [ev] = c.get("/api/events").json()["events"]
    assert ev["end"] is None
    failing_judge["on"] = True
    seq = wait_for(lambda: (b := c.get("/api/health").json())["status"] == "unknown" and b["seq"], "unknown")
    wait_for(lambda: c.get("/api/health").json()["seq"] >= seq + 3, "several failed ticks")
    failing_judge["on"] = False
    wait_for(lambda: c.get("/api/health").json()["status"] == "critical", "judged again")
    events = c.get("/api/events").json()["events"]
    assert [(e["id"], e["end"], e["states"]) for e in events] == [(ev["id"], None, ev["states"])]
    assert '"end":null' in (tmp_path / "events.jsonl").read_text().splitlines()[-1]
