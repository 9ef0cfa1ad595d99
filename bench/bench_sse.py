"""Server CPU and RSS with 0, 1, 20 and 100 dashboards open (SSE clients on loopback).

Usage: .venv/bin/python bench/bench_sse.py [--seconds 60] [--clients 0,1,20,100]

Starts a console, then for each client count opens that many /stream connections from a
separate process (asyncio, raw sockets, reading everything), waits 3 s for them to settle and
measures the server process' CPU time and RSS over --seconds. Cost must not grow with clients:
each tick's cards are rendered and encoded once and the same bytes go to every client.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import time

import psutil

from _server import free_port, start_console, stop


async def _client(port: int, stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write("GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    try:
        while time.monotonic() < stop_at:
            chunk = await asyncio.wait_for(reader.read(65536), timeout=max(0.1, stop_at - time.monotonic()))
            if not chunk:
                break
            counts[0] += chunk.count(b"event: tick")
    except asyncio.TimeoutError:
        pass
    finally:
        writer.close()


def run_clients(port: int, n: int, seconds: float, result: mp.Queue) -> None:
    async def go():
        counts = [0]
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*[_client(port, stop_at, counts) for _ in range(n)])
        result.put(counts[0])
    asyncio.run(go())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", default="0,1,20,100")
    args = ap.parse_args()
    port = free_port()
    server = start_console(port)
    proc = psutil.Process(server.pid)
    print(f"{'clients':>7} {'server CPU % of a core':>23} {'RSS MiB':>8} {'ticks received':>15}")
    try:
        for n in (int(x) for x in args.clients.split(",")):
            q: mp.Queue = mp.Queue()
            p = mp.Process(target=run_clients, args=(port, n, args.seconds + 3, q)) if n else None
            if p:
                p.start()
            time.sleep(3)  # connections settle
            t0, c0 = time.monotonic(), sum(proc.cpu_times()[:2])
            time.sleep(args.seconds)
            cpu = (sum(proc.cpu_times()[:2]) - c0) / (time.monotonic() - t0) * 100
            rss = proc.memory_info().rss / 2**20
            ticks = 0
            if p:
                ticks = q.get(timeout=30)
                p.join(10)
            print(f"{n:>7} {cpu:>23.2f} {rss:>8.1f} {ticks:>15}")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
