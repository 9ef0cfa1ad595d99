"""The sampler: one snapshot per tick, failures isolated per area, memoised fan-out."""
from __future__ import annotations

import asyncio
import threading
import time


from monitor.collectors.base import AreaModel
from monitor.collectors.memory import MemoryCollector
from monitor.collectors.system import SystemCollector
from monitor.sampler import History, Sampler, Store
from views.stream import encoded_events


class Counter(AreaModel):
    n: int


class Flaky:
    """A collector that raises or hangs while told to, and recovers when the fault goes."""
    name = "cpu"  # stands in for a real area so the page and API show the failure
    model = Counter
    interval = 0.0

    def __init__(self) -> None:
        self.mode = "ok"
        self.n = 0
        self.release = threading.Event()

    def collect(self, now: float) -> Counter:
        if self.mode == "raise":
            raise PermissionError("/proc/stat: permission denied")
        if self.mode == "hang":
            self.release.wait(10)
        self.n += 1
        return Counter(n=self.n)

    def series(self, data: Counter) -> dict[str, float]:
        return {"cpu.n": data.n}


def run(coro):
    return asyncio.run(coro)


def one_snapshot():
    """A store holding one real snapshot of the system and memory areas."""
    async def go():
        store = Store(10)
        sampler = Sampler(store, [SystemCollector(), MemoryCollector()], tick=1, timeout=1)
        snap = await sampler.sample_once()
        sampler.close()
        return store, snap
    return run(go())


def test_failing_area_is_unavailable_others_publish():
    async def go():
        store = Store(10)
        flaky = Flaky()
        sampler = Sampler(store, [flaky, MemoryCollector()], tick=1, timeout=2)
        first = await sampler.sample_once()
        flaky.mode = "raise"
        second = await sampler.sample_once()
        flaky.mode = "ok"
        third = await sampler.sample_once()
        sampler.close()
        return first, second, third, store

    first, second, third, store = run(go())
    assert first.get("cpu") == Counter(n=1) and "memory" in first.areas
    assert second.get("cpu") is None
    assert second.unavailable["cpu"] == "PermissionError: /proc/stat: permission denied"
    assert "memory" in second.areas and second.seq == first.seq + 1
    assert third.get("cpu") == Counter(n=2) and third.unavailable == {}  # recovered
    assert store.failures == {"cpu": 1}
    assert second.state_of("cpu") == "unknown" and third.state_of("cpu") == "ok"


def test_hung_area_does_not_stall_the_tick():
    async def go():
        store = Store(10)
        flaky = Flaky()
        flaky.mode = "hang"
        sampler = Sampler(store, [flaky, MemoryCollector()], tick=1, timeout=0.3)
        t0 = time.monotonic()
        a = await sampler.sample_once()
        b = await sampler.sample_once()  # still hung: not started twice, still reported
        took = time.monotonic() - t0
        flaky.mode = "ok"
        flaky.release.set()
        await asyncio.sleep(0.1)
        c = await sampler.sample_once()  # the hung call finished: its late result is used
        d = await sampler.sample_once()
        sampler.close()
        return a, b, c, d, took

    a, b, c, d, took = run(go())
    assert "has not finished" in a.unavailable["cpu"] and "memory" in a.areas
    assert "has not finished" in b.unavailable["cpu"] and "memory" in b.areas
    assert took < 3  # behaviour check: two ticks did not wait 10 s for the hung read
    assert c.get("cpu") is not None and d.get("cpu") is not None and d.unavailable == {}


def test_interval_reuses_previous_result_between_collections():
    class Slow(Flaky):
        name = "slow"
        interval = 3600.0

    async def go():
        store = Store(10)
        slow = Slow()
        sampler = Sampler(store, [slow], tick=1, timeout=1)
        snaps = [await sampler.sample_once() for _ in range(3)]
        sampler.close()
        return slow, snaps

    slow, snaps = run(go())
    assert slow.n == 1 and all(s.get("slow") == Counter(n=1) for s in snaps)


def test_wait_newer_skips_missed_ticks():
    async def go():
        store = Store(10)
        sampler = Sampler(store, [SystemCollector()], tick=1, timeout=1)
        for _ in range(3):
            await sampler.sample_once()
        got = await asyncio.wait_for(store.wait_newer(0), 1)  # a slow client at seq 0
        waiter = asyncio.create_task(store.wait_newer(got.seq))
        await asyncio.sleep(0.05)
        assert not waiter.done()  # nothing newer yet: it waits
        await sampler.sample_once()
        newer = await asyncio.wait_for(waiter, 1)
        sampler.close()
        return got, newer

    got, newer = run(go())
    assert got.seq == 3 and newer.seq == 4  # the latest, not the backlog


def test_history_ring_buffer_is_bounded_and_windowed():
    h = History(length=3)
    for t in range(5):
        h.add(float(t), {"x": t * 10})
    assert h.points("x") == [(2.0, 20.0), (3.0, 30.0), (4.0, 40.0)]
    assert h.points("x", seconds=1) == [(3.0, 30.0), (4.0, 40.0)]
    assert h.points("missing") == [] and h.names() == ["x"]


def test_sse_bytes_are_made_once_per_snapshot():
    store, snap = one_snapshot()
    a = encoded_events(store, snap, ["system", "memory"])
    b = encoded_events(store, snap, ["system", "memory"])
    assert a is b  # the second client got the very same bytes: no second render
    text = a.decode()
    assert "event: system\r\n" in text and "event: memory\r\n" in text
    assert "event: tick\r\n" in text and f"id: {snap.seq}\r\n" in text


def test_fault_shows_on_page_and_api_while_others_update(make_client):
    flaky = Flaky()
    c = make_client(collectors=[SystemCollector(), flaky, MemoryCollector()], tick=0.2)
    flaky.mode = "raise"
    deadline = time.monotonic() + 5
    while c.get("/api/snapshot").json()["cpu"] is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    r = c.get("/api/cpu")
    assert r.status_code == 503 and "permission denied" in r.json()["detail"]
    snap = c.get("/api/snapshot").json()
    assert snap["cpu"] is None and "PermissionError" in snap["unavailable"]["cpu"]
    assert snap["memory"]["total"] > 0
    page = c.get("/dashboard").text
    assert "CPU could not be read" in page and "state-unknown" in page
    seq = c.get("/api/memory").json()["seq"]
    deadline = time.monotonic() + 5
    while c.get("/api/memory").json()["seq"] == seq and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.get("/api/memory").json()["seq"] > seq  # other areas keep updating
    flaky.mode = "ok"
    deadline = time.monotonic() + 5
    while c.get("/api/cpu").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.get("/api/cpu").json()["cpu"]["n"] >= 1  # recovered by itself


def test_a_card_that_fails_to_render_does_not_break_the_stream(monkeypatch):
    from views import cards

    store, snap = one_snapshot()
    real = cards.card_context

    def broken(store_, snap_, area):
        if area == "memory":
            raise KeyError("template bug")
        return real(store_, snap_, area)

    monkeypatch.setattr(cards, "card_context", broken)
    text = encoded_events(store, snap, ["system", "memory"]).decode()
    assert "could not be drawn" in text and 'class="hostname"' in text


def test_history_drops_series_that_stopped_arriving():
    h = History(length=100, max_age=60)
    h.add(0.0, {"network.vnet0.bytes_recv_per_s": 1.0, "cpu.percent": 5.0})
    h.add(30.0, {"cpu.percent": 6.0})  # vnet0 is gone, but only for 30 s: kept
    assert h.names() == ["cpu.percent", "network.vnet0.bytes_recv_per_s"]
    h.add(61.0, {"cpu.percent": 7.0})
    assert h.names() == ["cpu.percent"]


def test_cards_are_marked_safe_only_after_autoescaped_rendering():
    """render_card wraps a card in Markup (so the page and SSE do not escape it twice): that is
    safe only because the template escaped the host data first. A hostile hostname proves it."""
    from monitor.collectors.system import System
    from views.cards import render_card

    class HostileHost:
        name, model, interval = "system", System, 0.0

        def collect(self, now):
            return System(hostname='<img src=x onerror=alert(1)>"', os_name=None, os_version=None,
                          os_id=None, os_pretty_name="<script>alert(2)</script>", kernel="k",
                          arch="x", boot_time=0.0, uptime=1.0, cpu_model=None, cpu_logical=1,
                          cpu_physical=1)

        def series(self, data):
            return {}

    async def go():
        store = Store(10)
        sampler = Sampler(store, [HostileHost()], tick=1, timeout=1)
        snap = await sampler.sample_once()
        sampler.close()
        return store, snap

    store, snap = run(go())
    html = str(render_card(store, snap, "system"))
    assert "<img" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;alert(2)" in html
    assert "&lt;img" in encoded_events(store, snap, ["system"]).decode()
