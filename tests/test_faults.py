"""Faults injected per collector, end to end through HTTP: a collector that raises (psutil errors,
/proc entries vanishing) or hangs (a stuck sensor read) makes only its own card "unavailable";
every other area keeps updating, and the failed one recovers as soon as the fault goes.

The real collectors run on the real host; a wrapper injects the fault into one of them.
"""
from __future__ import annotations

import threading
import time

import psutil
import pytest

from monitor.collectors.cpu import CpuCollector
from monitor.collectors.memory import MemoryCollector
from monitor.collectors.system import SystemCollector


class Faulty:
    """A real collector, plus a switch: ``fault`` None (healthy), an exception to raise, or
    "hang" (block until ``release`` is set, like a sensor read on a wedged bus)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.interval, self.model = inner.name, inner.interval, inner.model
        self.fault: BaseException | str | None = None
        self.release = threading.Event()

    def collect(self, now: float):
        fault = self.fault
        if fault == "hang":
            self.release.wait(30)  # bounded, so a failing test cannot leave a thread forever
        elif isinstance(fault, BaseException):
            raise fault
        return self.inner.collect(now)

    def series(self, data):
        return self.inner.series(data)


@pytest.fixture
def console(make_client):
    faulty = Faulty(CpuCollector())
    client = make_client(collectors=[SystemCollector(), faulty, MemoryCollector()],
                         tick=0.2, collector_timeout=0.5)
    yield client, faulty
    faulty.fault = None
    faulty.release.set()


def wait_for(check, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def others_stay_live(client) -> None:
    """Memory and system keep being published with new samples while cpu is down."""
    first = client.get("/api/memory").json()
    wait_for(lambda: client.get("/api/memory").json()["seq"] > first["seq"] + 2, "memory updates")
    assert client.get("/api/system").status_code == 200
    page = client.get("/dashboard").text
    assert 'id="memory"' in page and 'id="cpu"' in page
    assert "cpu could not be read" in page.lower() or "could not be read" in page


FAULTS = [
    psutil.AccessDenied(pid=None, name="cpu"),
    FileNotFoundError(2, "No such file or directory", "/proc/stat"),  # /proc entry vanished
    psutil.NoSuchProcess(pid=12345),
    RuntimeError("sensor driver returned garbage"),
]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: type(f).__name__)
def test_a_raising_collector_leaves_the_others_live_and_recovers(console, fault):
    client, faulty = console
    assert client.get("/api/cpu").status_code == 200
    faulty.fault = fault
    snap = wait_for(lambda: (s := client.get("/api/snapshot").json())["unavailable"].get("cpu") and s,
                    "cpu reported unavailable")
    assert type(fault).__name__ in snap["unavailable"]["cpu"]
    assert snap["cpu"] is None and snap["memory"] is not None and snap["system"] is not None
    r = client.get("/api/cpu")
    assert r.status_code == 503 and "cpu unavailable" in r.json()["detail"]
    others_stay_live(client)

    faulty.fault = None
    wait_for(lambda: client.get("/api/cpu").status_code == 200, "cpu recovers")
    assert client.get("/api/snapshot").json()["unavailable"] == {}
    assert "could not be read" not in client.get("/dashboard").text


def test_a_hanging_collector_leaves_the_others_live_and_recovers(console):
    client, faulty = console
    faulty.fault = "hang"
    snap = wait_for(lambda: (s := client.get("/api/snapshot").json())["unavailable"].get("cpu") and s,
                    "hung cpu reported unavailable")
    assert "has not finished" in snap["unavailable"]["cpu"]
    others_stay_live(client)
    # Ticks keep their pace while the collector hangs: the sampler never waits on it again.
    a = client.get("/api/memory").json()
    time.sleep(1.0)
    b = client.get("/api/memory").json()
    assert b["seq"] - a["seq"] >= 3  # 0.2 s ticks: ~5 in a second; 3 leaves room for a busy CI

    faulty.fault = None
    faulty.release.set()
    wait_for(lambda: client.get("/api/cpu").status_code == 200, "cpu recovers after the hang")
    assert client.get("/api/snapshot").json()["unavailable"] == {}
