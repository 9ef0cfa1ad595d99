"""Many SSE clients with connect/disconnect churn against a real console on loopback.

    python bench/bench_sse_clients.py --clients 200 --minutes 5        # start a console itself
    python bench/bench_sse_clients.py --url http://127.0.0.1:8000 --token "$TOKEN" --minutes 1

Each client connects to /stream, reads for a random 1-8 s, disconnects and reconnects, until the
time is up. Meanwhile a few slow clients connect and then stop reading altogether (their socket
buffers fill). Before and after, /api/console gives the server's asyncio task count and RSS;
during the run, how late ticks start (p99) and how fresh the fast clients' data is.
Sample output (2 cores):

    clients 200 (+5 stalled) for 300 s: 41,102 connections, 0 errors, 1,203,388 events
    server tasks  before 5  peak 618  after 5
    server RSS    before 62.1 MiB  peak 88.4 MiB  after 66.0 MiB  65 s later 64.0 MiB
    tick lag      p50 1.2 ms  p99 9.8 ms
    event gap seen by readers while stalled clients sit: p99 1.02 s (tick 1.0 s)
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script or imported by tests: bench._server either way

from bench._server import free_port, start_console, stop  # noqa: E402


@dataclass
class Tally:
    connections: int = 0
    errors: list[str] = field(default_factory=list)
    events: int = 0
    gaps: list[float] = field(default_factory=list)  # seconds between two tick events at a reader


async def churning_client(client: httpx.AsyncClient, url: str, until: float, tally: Tally,
                          hold: tuple[float, float]) -> None:
    """Connect, read for a random while, leave; again until ``until``."""
    while time.monotonic() < until:
        stay = min(random.uniform(*hold), max(0.1, until - time.monotonic()))
        try:
            async with client.stream("GET", url + "/stream") as r:
                tally.connections += 1
                if r.status_code != 200:
                    tally.errors.append(f"status {r.status_code}")
                    return
                end = time.monotonic() + stay
                last_tick = None
                async for line in r.aiter_lines():
                    if line.startswith("event: "):
                        tally.events += 1
                        if line == "event: tick":
                            now = time.monotonic()
                            if last_tick is not None:
                                tally.gaps.append(now - last_tick)
                            last_tick = now
                    if time.monotonic() >= end:
                        break  # leave mid-stream, like a closed browser tab
        except httpx.HTTPError as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(random.uniform(0.0, 0.3))


async def stalled_client(host: str, port: int, headers: dict, until: float) -> None:
    """Open /stream and never read: the server's send buffer to us fills up."""
    reader, writer = await asyncio.open_connection(host, port)
    auth = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"GET /stream HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode())
    await writer.drain()
    await asyncio.sleep(max(0.0, until - time.monotonic()))
    writer.close()


def console_stats(url: str, headers: dict) -> dict:
    return httpx.get(url + "/api/console", headers=headers, timeout=10).json()


async def run(url: str, clients: int, seconds: float, headers: dict, stalled: int = 0,
              hold: tuple[float, float] = (1.0, 8.0), sample=None) -> Tally:
    """Drive the clients; ``sample()`` is called about once a second (for peaks)."""
    tally = Tally()
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(30.0, connect=10.0)
    parsed = httpx.URL(url)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=timeout) as client:
        tasks = [asyncio.create_task(churning_client(client, url, until, tally, hold))
                 for _ in range(clients)]
        tasks += [asyncio.create_task(stalled_client(parsed.host, parsed.port, headers, until))
                  for _ in range(stalled)]
        while time.monotonic() < until:
            if sample is not None:
                await asyncio.to_thread(sample)
            await asyncio.sleep(1.0)
        await asyncio.gather(*tasks)
    return tally


def settle(url: str, headers: dict, baseline_tasks: int, timeout: float = 15.0) -> dict:
    """/api/console once the server has let go of the clients (tasks back near the baseline)."""
    deadline = time.monotonic() + timeout
    stats = console_stats(url, headers)
    while stats["tasks"] > baseline_tasks + 2 and time.monotonic() < deadline:
        time.sleep(0.25)
        stats = console_stats(url, headers)
    return stats


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def ms(s: float | None) -> str:
    return "n/a" if s is None else f"{s * 1000:.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running console (default: start one on a free port)")
    ap.add_argument("--token", default="", help="Bearer token, if the console needs one")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--stalled", type=int, default=5, help="clients that stop reading")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--rest", type=float, default=65.0,
                    help="seconds idle after the churn before RSS is read again")
    args = ap.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}

    proc = None
    url = args.url
    if url is None:
        port = free_port()
        proc = start_console(port)
        url = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(run(url, 10, 3, headers, hold=(0.5, 1.5)))  # warm up: templates, buffers
        before = settle(url, headers, console_stats(url, headers)["tasks"])
        peak = {"tasks": 0, "rss": 0}

        def sample() -> None:
            s = console_stats(url, headers)
            peak["tasks"] = max(peak["tasks"], s["tasks"])
            peak["rss"] = max(peak["rss"], s["rss"])

        seconds = args.minutes * 60
        tally = asyncio.run(run(url, args.clients, seconds, headers, stalled=args.stalled,
                                sample=sample))
        after = settle(url, headers, before["tasks"])
        time.sleep(args.rest)  # the console gives free heap pages back once a minute (monitor/malloc.py)
        rested = console_stats(url, headers)
        gaps = sorted(tally.gaps)
        p99_gap = gaps[int(0.99 * (len(gaps) - 1))] if gaps else None
        print(f"clients {args.clients} (+{args.stalled} stalled) for {seconds:.0f} s: "
              f"{tally.connections:,} connections, {len(tally.errors)} errors, {tally.events:,} events")
        if tally.errors:
            print("  first errors:", *sorted(set(tally.errors))[:5], sep="\n    ")
        print(f"server tasks  before {before['tasks']}  peak {peak['tasks']}  after {after['tasks']}")
        print(f"server RSS    before {mib(before['rss'])}  peak {mib(peak['rss'])}  after {mib(after['rss'])}"
              f"  {args.rest:.0f} s later {mib(rested['rss'])}")
        print(f"tick lag      p50 {ms(after['tick_lag_p50'])}  p99 {ms(after['tick_lag_p99'])}"
              f"  (last {after['ticks']} ticks)")
        if gaps:
            print(f"event gap seen by readers: median {statistics.median(gaps):.2f} s, "
                  f"p99 {p99_gap:.2f} s")
    finally:
        if proc is not None:
            stop(proc)


if __name__ == "__main__":
    main()
