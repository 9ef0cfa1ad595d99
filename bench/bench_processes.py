"""Process table cost: one sampling tick next to the raw psutil floor, and /api/processes latency.

usage: .venv/bin/python bench/bench_processes.py [--extra 1000] [--ticks 15] [--requests 400]

For this machine's process count, then again with ``--extra`` idle processes (``sleep``) that the
benchmark starts and stops itself, it prints:
  - sampling: ProcessesCollector.collect() per tick (what the sampler runs every 2 s) next to
    the floor, a bare ``psutil.process_iter(ATTRS)`` over the same attributes (both warm);
  - GET /api/processes?limit=50 (and the HTML table fragment) on a real server on loopback:
    p50/p99 for one client in sequence and for 10 concurrent clients.
Figures go in the issue's note; nothing here is a test.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.collectors.processes import ATTRS, ProcessesCollector  # noqa: E402
from bench._server import free_port, start_console, stop  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(v: float) -> str:
    return f"{v * 1000:7.2f} ms"


def bench_sampling(ticks: int) -> tuple[float, float]:
    collector = ProcessesCollector()
    collector.collect(time.monotonic())  # warm: Process objects made once, like the sampler
    list(psutil.process_iter(ATTRS))  # warm the floor's cache the same way
    ours, floor = [], []
    for _ in range(ticks):  # interleaved, so load changes hit both alike
        t = time.perf_counter()
        collector.collect(time.monotonic())
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        for p in psutil.process_iter(ATTRS):
            p.info  # noqa: B018 - the floor only reads
        floor.append(time.perf_counter() - t)
    return statistics.median(ours), statistics.median(floor)


def wait_total(url: str, at_least: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    total = 0
    while time.monotonic() < deadline:
        total = httpx.get(url + "/api/processes?limit=1", timeout=5).json()["total"]
        if total >= at_least:
            return total
        time.sleep(0.5)
    return total


def latencies(url: str, path: str, n: int, clients: int) -> list[float]:
    def one_client(count: int) -> list[float]:
        out = []
        with httpx.Client(base_url=url, timeout=10) as c:
            c.get(path)  # connect and warm
            for _ in range(count):
                t = time.perf_counter()
                r = c.get(path)
                out.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text[:200]
        return out
    with ThreadPoolExecutor(clients) as pool:
        return [v for part in pool.map(one_client, [n // clients] * clients) for v in part]


def bench_http(url: str, n: int) -> None:
    for label, path in (("GET /api/processes?limit=50", "/api/processes?limit=50"),
                        ("GET /fragments/processes (100 rows)", "/fragments/processes")):
        for clients in (1, 10):
            lat = latencies(url, path, n, clients)
            print(f"  {label:38} {clients:2} client(s): p50 {ms(pct(lat, 50))}  "
                  f"p99 {ms(pct(lat, 99))}  ({len(lat)} requests)")


def run_round(title: str, url: str, ticks: int, requests: int) -> None:
    n = len(psutil.pids())
    ours, floor = bench_sampling(ticks)
    print(f"{title}: {n} processes")
    print(f"  sampling per tick (median of {ticks}): collector {ms(ours)}   raw process_iter floor "
          f"{ms(floor)}   ratio {ours / floor:.2f}x   ({ours / n * 1e6:.0f} µs per process)")
    bench_http(url, requests)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra", type=int, default=1000, help="idle processes to add (default 1000)")
    ap.add_argument("--ticks", type=int, default=15, help="sampling ticks measured per round")
    ap.add_argument("--requests", type=int, default=400, help="HTTP requests per measurement")
    args = ap.parse_args()

    port = free_port()
    server = start_console(port, {"SERVER_MONITOR_TICK": "1"})
    url = f"http://127.0.0.1:{port}"
    idle: list[subprocess.Popen] = []
    try:
        run_round("this machine", url, args.ticks, args.requests)
        base = len(psutil.pids())
        for _ in range(args.extra):
            idle.append(subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        seen = wait_total(url, base + args.extra - 20)  # the server's next samples include them
        print(f"(started {len(idle)} idle processes; the server's table now lists {seen})")
        run_round(f"+{args.extra} idle", url, args.ticks, args.requests)
    finally:
        for p in idle:
            p.kill()
        for p in idle:
            p.wait(10)
        stop(server)


if __name__ == "__main__":
    main()
