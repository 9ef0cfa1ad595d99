"""SSE churn at CI scale: 50 clients connecting and leaving for 20 s, plus two that stop reading.
No client sees an error; once they have all gone, the server's asyncio task count is back to its
baseline and its RSS close to it; readers keep receiving ticks while the stalled ones sit.

The full-size run (200 clients, minutes) is bench/bench_sse_clients.py; it shares this driver.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from bench.bench_sse_clients import console_stats, run, settle

CLIENTS, SECONDS, STALLED = 50, 20, 2
RSS_SLACK = 24 * 2**20  # allocator high-water marks stay with CPython; a leak grows per client


def drive(*args, **kwargs):
    """Run the async driver in a thread of its own: Playwright may own this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run(*args, **kwargs)).result()


def test_sse_churn_leaves_no_tasks_or_memory_behind(spawn_server):
    server = spawn_server()
    url, auth = server.url, server.headers  # /api/console is full scope
    drive(url, 10, 3, auth, hold=(0.5, 1.5))  # warm-up: first renders, buffers
    before = settle(url, auth, console_stats(url, auth)["tasks"])

    tally = drive(url, CLIENTS, SECONDS, auth, stalled=STALLED, hold=(0.5, 3.0))
    after = settle(url, auth, before["tasks"])

    assert tally.errors == []
    assert tally.connections >= 2 * CLIENTS  # they really came and went
    assert tally.events > CLIENTS * SECONDS / 2
    assert after["tasks"] <= before["tasks"] + 2, (before, after)
    assert after["rss"] <= before["rss"] + RSS_SLACK, (before["rss"], after["rss"])
    # Readers got every tick while two clients sat on full socket buffers: no gap of several
    # ticks (the stream skips to the newest snapshot; it never waits on a slow client).
    assert max(tally.gaps) < 3.0, max(tally.gaps)
    assert after["ticks"] > 0 and after["tick_lag_p99"] < 1.0, after  # the tick loop never stalled


def test_a_stream_that_ticks_often_needs_no_keepalive_task(spawn_server):
    """A stream sends a tick every second: a keep-alive ping task per connection would only
    cost memory (one task in five). One that sends every 30th tick (30 s) keeps its ping."""
    import socket
    import time

    server = spawn_server()
    url, auth = server.url, server.headers
    base = settle(url, auth, console_stats(url, auth)["tasks"])["tasks"]

    def tasks_with_stream(every: int) -> int:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(f"GET /stream?every={every} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: {auth['Authorization']}\r\n\r\n".encode())
            assert b"200 OK" in s.recv(65536)  # headers, then the stream is running
            time.sleep(0.5)
            return console_stats(url, auth)["tasks"] - base

    every_tick = tasks_with_stream(1)
    settle(url, auth, base)
    every_30 = tasks_with_stream(30)
    assert every_30 == every_tick + 1, (every_tick, every_30)
