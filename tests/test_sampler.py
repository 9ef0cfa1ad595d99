"""The sampler: one snapshot per tick, failures isolated per area, memoised fan-out."""
from __future__ import annotations

import asyncio
import threading
import time


from monitor.collectors.base import AreaModel
from monitor.collectors.memory import MemoryCollector
from monitor.collectors.system import SystemCollector
from monitor.sampler import History, Sampler, Store
from views.stream import event_parts


def sse_text(store, snap, areas) -> str:
    """What a new client is sent first: every event of the tick."""
    return b"".join(data for _, data in event_parts(store, snap, areas)).decode()


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
    # Collected again, but this sampler has no judge: the card says "not judged", never "ok".
    assert second.state_of("cpu") == "unknown" and third.state_of("cpu") == "unjudged"


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
    a = event_parts(store, snap, ["system", "memory"])
    b = event_parts(store, snap, ["system", "memory"])
    assert a is b  # the second client got the very same bytes: no second render
    text = sse_text(store, snap, ["system", "memory"])
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

    def broken(store_, snap_, area, *scope):
        if area == "memory":
            raise KeyError("template bug")
        return real(store_, snap_, area, *scope)

    monkeypatch.setattr(cards, "card_context", broken)
    text = sse_text(store, snap, ["system", "memory"])
    assert "could not be drawn" in text and 'class="hostname"' in text


def test_history_ring_keeps_the_newest_points_in_order_through_every_wrap():
    from collections import deque
    for length in (2, 3, 7):
        h, reference = History(length=length), deque(maxlen=length)
        for t in range(3 * length + 1):
            h.add(float(t), {"x": t / 4})
            reference.append((float(t), t / 4))
            assert h.points("x") == list(reference), (length, t)


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
    assert "&lt;img" in sse_text(store, snap, ["system"])


# --- no collector and no judgment can hold the tick ------------------------------------------------
class Sleepy:
    """A collector that takes ``delay`` seconds (or hangs until released) and counts its calls,
    so a test can see that a second collection of the area never starts while one runs."""
    name = "cpu"
    model = Counter
    interval = 0.0

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.release = threading.Event()
        self.started = 0
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def collect(self, now: float) -> Counter:
        with self.lock:
            self.started += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            self.release.wait(self.delay)
            return Counter(n=self.started)
        finally:
            with self.lock:
                self.running -= 1

    def series(self, data: Counter) -> dict[str, float]:
        return {}


def ticking(collectors, seconds: float, tick: float = 0.2, timeout: float = 1.0, judge=None):
    """Run a real Sampler for ``seconds`` and return every snapshot it published, in order."""
    async def go():
        store = Store(100)
        sampler = Sampler(store, collectors, tick=tick, timeout=timeout, judge=judge)
        seen = [await sampler.sample_once()]
        task = asyncio.create_task(sampler.run())
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                seen.append(await asyncio.wait_for(store.wait_newer(seen[-1].seq), deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
        task.cancel()
        sampler.close()
        return seen
    return run(go())


def test_a_slow_collector_is_published_stale_and_never_holds_the_tick():
    slow = Sleepy(0.5)  # 2.5 ticks per collection; its timeout (1 s) is not reached
    snaps = ticking([slow, MemoryCollector()], seconds=2.4)[1:]  # the first waited on purpose
    gaps = [b.taken_at - a.taken_at for a, b in zip(snaps, snaps[1:])]
    assert len(snaps) >= 9 and max(gaps) < 0.2 + 0.15, gaps  # every tick, on schedule
    assert [s.seq for s in snaps] == list(range(snaps[0].seq, snaps[0].seq + len(snaps)))
    assert all("memory" in s.areas for s in snaps)
    # The slow area keeps its previous value, marked stale with its age, never unavailable.
    assert all(s.get("cpu") is not None and "cpu" not in s.unavailable for s in snaps)
    stale = [s.stale["cpu"] for s in snaps if "cpu" in s.stale]
    # The age is the published value's: read by a collection that started up to ~3 ticks before
    # the current one, which has run for less than its 1 s timeout.
    assert len(stale) >= len(snaps) // 2 and 0 < max(stale) < 1.6
    assert len({s.get("cpu").n for s in snaps}) >= 2  # late results are used when they come
    assert slow.most_at_once == 1  # at most one collection of the area in flight
    assert slow.started <= 2.4 / 0.5 + 2


def test_a_hung_collector_is_unavailable_after_its_timeout_and_not_started_again():
    hung = Sleepy(30)
    try:
        snaps = ticking([hung, MemoryCollector()], seconds=2.0, timeout=0.6)
    finally:
        hung.release.set()
    later = [s for s in snaps if s.taken_at - snaps[0].taken_at >= 0.7]
    assert later and all("has not finished after" in s.unavailable["cpu"] for s in later)
    assert all("memory" in s.areas for s in snaps)
    gaps = [b.taken_at - a.taken_at for a, b in zip(snaps[1:], snaps[2:])]
    assert max(gaps) < 0.35, gaps  # the other area publishes every tick
    assert hung.started == 1  # never a second collection of the hung area


def test_a_hung_judge_is_bounded_and_never_runs_twice():
    release = threading.Event()
    calls = {"n": 0, "at_once": 0, "running": 0}
    lock = threading.Lock()

    def judge(snap, history):
        with lock:
            calls["n"] += 1
            calls["running"] += 1
            calls["at_once"] = max(calls["at_once"], calls["running"])
        try:
            if calls["n"] == 2:  # the second judgment hangs (a stuck disk under the events file)
                release.wait(30)
            return [f"verdict {snap.seq}"]
        finally:
            with lock:
                calls["running"] -= 1

    threading.Timer(1.5, release.set).start()
    snaps = ticking([MemoryCollector()], seconds=2.5, judge=judge)
    release.set()
    gaps = [b.taken_at - a.taken_at for a, b in zip(snaps[1:], snaps[2:])]
    assert max(gaps) < 0.2 + 0.3, gaps  # a tick waits for the judgment at most its budget
    unjudged = [s for s in snaps if s.judge_error]
    assert unjudged and all(s.verdicts == () for s in unjudged)
    assert "took longer than" in unjudged[0].judge_error
    assert any("is still running" in s.judge_error for s in unjudged[1:])
    assert calls["at_once"] == 1  # never two judgments at once
    assert snaps[-1].judge_error is None and snaps[-1].verdicts == (f"verdict {snaps[-1].seq}",)


def test_a_raising_judge_leaves_the_sample_unjudged_with_the_reason():
    def judge(snap, history):
        raise UnicodeEncodeError("utf-8", "x\udcff", 1, 2, "surrogates not allowed")

    async def go():
        sampler = Sampler(Store(10), [MemoryCollector()], tick=1, timeout=1, judge=judge)
        snap = await sampler.sample_once()
        sampler.close()
        return snap

    snap = run(go())
    assert "memory" in snap.areas and snap.verdicts == ()
    assert snap.judge_error.startswith("judging failed: UnicodeEncodeError")
    assert snap.state_of("memory") == "unknown"


class Closing(Flaky):
    """A collector with the optional close(); ``fail`` makes it raise there."""

    def __init__(self, name: str, fail: bool = False) -> None:
        super().__init__()
        self.name = name
        self.fail = fail
        self.closed = 0

    def close(self) -> None:
        self.closed += 1
        if self.fail:
            raise OSError("already gone")


def test_close_closes_every_collector_that_has_close_once_even_if_one_raises():
    async def go():
        first, second = Closing("cpu", fail=True), Closing("memory")
        sampler = Sampler(Store(10), [first, SystemCollector(), second], tick=1, timeout=1)
        await sampler.sample_once()
        sampler.close()
        sampler.close()  # the lifespan and a test may both close: collectors are closed once
        return first, second

    first, second = run(go())
    assert (first.closed, second.closed) == (1, 1)


def test_judge_alias_is_not_named_like_the_judge_class():
    import monitor.health
    import monitor.sampler
    import monitor.store
    assert not hasattr(monitor.sampler, "Judge")
    assert isinstance(monitor.health.Judge, type)
    assert monitor.sampler.Store is monitor.store.Store and monitor.sampler.Snapshot is monitor.store.Snapshot


class Where(Flaky):
    """A quick collector that notes which thread ran each of its collections."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.threads: list[int] = []

    def collect(self, now: float) -> Counter:
        self.threads.append(threading.get_ident())
        return super().collect(now)


def test_quick_collectors_share_one_thread_per_tick():
    """After the first tick (each alone, durations unknown), the quick ones run one after another
    in one worker thread: one hand-off per tick, not one per collector."""
    a, b, c = Where("cpu"), Where("memory"), Where("disks")
    snaps = ticking([a, b, c], seconds=1.2)
    assert len(snaps) >= 5 and all({"cpu", "memory", "disks"} <= s.areas.keys() for s in snaps)
    later = list(zip(a.threads, b.threads, c.threads))[1:]
    assert later and all(x == y == z for x, y, z in later)


def test_a_batch_member_queued_behind_a_hang_is_taken_back_at_the_next_tick():
    """cpu was quick, then hangs inside the shared batch: memory, queued behind it, is published
    stale for at most that tick, then runs in the next tick's batch; cpu is never started twice."""
    async def go():
        store = Store(10)
        flaky, mem = Flaky(), Where("memory")
        sampler = Sampler(store, [flaky, mem], tick=0.2, timeout=0.6)
        snaps = [await sampler.sample_once() for _ in range(3)]  # both measured quick
        sampler._took["cpu"] = 0.0  # cpu first in the batch, memory behind it
        flaky.mode = "hang"
        for _ in range(8):
            snaps.append(await sampler.sample_once())
            await asyncio.sleep(0.1)
        calls = flaky.n
        flaky.mode = "ok"
        flaky.release.set()
        await asyncio.sleep(0.1)
        snaps.append(await sampler.sample_once())
        sampler.close()
        return snaps, mem, calls

    snaps, mem, calls = run(go())
    hung = snaps[3:-1]
    assert all("memory" in s.areas for s in snaps)
    # Fresh again from the tick after the hang began: the new batch took it back.
    assert all("memory" not in s.stale for s in hung[1:]), [s.stale for s in hung]
    assert mem.n >= 3 + 7  # collected on every hung tick but (at most) the first
    assert any("has not finished" in s.unavailable.get("cpu", "") for s in hung)
    assert calls == 3  # the hung collection was never started a second time
    assert snaps[-1].get("cpu") is not None and snaps[-1].unavailable == {}


def test_an_area_is_read_at_its_unwatched_pace_while_nobody_looks():
    """Nobody has asked for a snapshot for WATCH_WINDOW: a collector with an unwatched_interval
    (the process table) is read at that pace, the others as before; the next look brings its
    own pace back at the next tick. Every tick is still published (and would be judged)."""
    from monitor import sampler as sampler_module

    class Slow(Flaky):
        name = "processes"
        interval = 0.2
        unwatched_interval = 0.6

    async def reads_in(seconds: float, store: Store, sampler: Sampler, slow: Slow, look: bool):
        before, ticks = slow.n, 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if look:
                store.seen()
            await sampler.sample_once()
            ticks += 1
            await asyncio.sleep(0.05)
        return slow.n - before, ticks

    async def go():
        store = Store(10)
        slow, every_tick = Slow(), Flaky()
        sampler = Sampler(store, [slow, every_tick], tick=0.05, timeout=1)
        watched = await reads_in(1.2, store, sampler, slow, look=True)
        store.seen_at -= sampler_module.WATCH_WINDOW  # the last look was a window ago
        unwatched = await reads_in(1.2, store, sampler, slow, look=False)
        assert not store.watched(sampler_module.WATCH_WINDOW)
        store.seen()
        back = await reads_in(0.5, store, sampler, slow, look=False)
        sampler.close()
        return watched, unwatched, back, every_tick.n

    (watched, ticks1), (unwatched, ticks2), (back, _), fast = run(go())
    assert 5 <= watched <= 7, watched  # every 0.2 s over 1.2 s (the first read is due at once)
    assert 2 <= unwatched <= 3, unwatched  # every 0.6 s
    assert back >= 2  # watched again: every 0.2 s
    assert fast >= ticks1 + ticks2  # the other area is read every tick throughout


def test_a_stream_counts_as_looking_and_waiting_alone_does_not():
    """Each tick a stream sends marks the store as watched; the history recorder and the
    notifier also wait on the store, and that must not keep the process table at its 2 s pace."""
    from views.stream import _events

    async def go():
        store = Store(10)
        sampler = Sampler(store, [MemoryCollector()], tick=1, timeout=1)
        await sampler.sample_once()
        store.seen_at -= 60
        waiter = asyncio.ensure_future(store.wait_newer(store.latest.seq))
        await sampler.sample_once()
        await waiter
        after_wait = store.watched(10)
        stream = _events(store, ["memory"], "display")
        await stream.__anext__()  # retry:
        await stream.__anext__()  # the current state
        store.seen_at -= 60
        nxt = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)
        await sampler.sample_once()
        await nxt
        await stream.aclose()
        sampler.close()
        return after_wait, store.watched(10)

    assert run(go()) == (False, True)


def test_the_real_areas_unwatched_cpu_and_memory_every_tick_the_others_slower():
    """The default collectors over 4.5 s with nobody looking: CPU and memory are read at every
    tick, disks and network about every 2 s, the host's facts once (10 s), as documented."""
    from monitor import sampler as sampler_module
    from monitor.areas import default_collectors

    async def go():
        store = Store(100)
        wanted = {"system", "cpu", "memory", "disks", "network"}
        sampler = Sampler(store, [c for c in default_collectors() if c.name in wanted],
                          tick=0.25, timeout=2)
        await sampler.sample_once()  # every area's first read
        store.seen_at -= sampler_module.WATCH_WINDOW
        reads: dict[str, int] = dict.fromkeys(wanted, 0)
        ticks = 0
        deadline = time.monotonic() + 4.5
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            snap = await sampler.sample_once()
            ticks += 1
            for name in snap.durations:
                reads[name] += 1
        sampler.close()
        return reads, ticks

    reads, ticks = run(go())
    assert reads["cpu"] == reads["memory"] == ticks, (reads, ticks)
    assert 1 <= reads["disks"] <= 3 and 1 <= reads["network"] <= 3, reads
    assert reads["system"] == 0, reads
