"""Logs: tail of the last 200 lines of a 1 GB file, and the live tail's delay from write to receipt.

Usage: .venv/bin/python bench/bench_logs.py [--size-mb 1024] [--runs 50] [--live 30] [--viewers 1]

1. Writes a ~1 GB syslog-shaped file (real lines, not a sparse hole) in a temporary directory.
2. Tail: monitor.logs.tail.tail(path, 200) and read_lines(...) (tail + parse + shape), --runs times
   each, in process (warm page cache, which is how a log being written is read); then
   GET /api/logs?lines=200 against a real console on loopback (HTTP, JSON included).
3. Live: opens --viewers SSE connections to /logs/stream on that console, appends one line every
   0.2 s carrying its write time, and measures when each viewer received it (the follower polls
   every log_follow_interval, 0.25 s by default). Targets: tail p50 < 20 ms; live delay < 1.5 s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _server import free_port, start_console, stop  # noqa: E402

from monitor.logs.filters import LogFilter  # noqa: E402
from monitor.logs.reader import read_lines  # noqa: E402
from monitor.logs.sources import LogSource  # noqa: E402
from monitor.logs.tail import tail  # noqa: E402


def make_file(path: Path, size_mb: int) -> None:
    chunk = "".join(f"2025-11-26T11:{i // 60 % 60:02d}:{i % 60:02d}.123456+00:00 web1 app[4242]: request id={i:07d} "
                    f"method=GET path=/api/items/{i % 977} status=200 took={i % 93}ms\n"
                    for i in range(8000)).encode()
    with open(path, "wb") as f:
        written = 0
        while written < size_mb * 1024 * 1024:
            f.write(chunk)
            written += len(chunk)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(label: str, ms: list[float]) -> None:
    print(f"{label:<44} p50 {statistics.median(ms):7.2f} ms   p95 {pct(ms, 95):7.2f} ms   max {max(ms):7.2f} ms")


def live_delays(base: str, path: Path, seconds: float, viewers: int) -> list[float]:
    delays: list[float] = []
    lock = threading.Lock()
    stop_at = time.time() + seconds + 3
    ready = threading.Barrier(viewers + 1)

    def viewer() -> None:
        with httpx.stream("GET", base + "/logs/stream?source=bench&q=probe", timeout=seconds + 10) as r:
            ready.wait()
            for line in r.iter_lines():
                now = time.time()
                if "probe sent=" in line:
                    for part in line.split("probe sent=")[1:]:
                        sent = float(part.split("<", 1)[0].split()[0])
                        with lock:
                            delays.append((now - sent) * 1000)
                if now > stop_at:
                    break

    threads = [threading.Thread(target=viewer, daemon=True) for _ in range(viewers)]
    for t in threads:
        t.start()
    ready.wait(10)
    time.sleep(1.0)  # let every stream subscribe before the first probe
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        with open(path, "a") as f:
            f.write(f"2025-11-26T12:00:00+00:00 web1 bench[1]: probe sent={time.time():.6f} n={n}\n")
        n += 1
        time.sleep(0.2)
    for t in threads:
        t.join(seconds + 10)
    print(f"live: {n} lines written, {len(delays)} receipts by {viewers} viewer(s)")
    return delays


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--live", type=float, default=30, help="seconds of live probes")
    ap.add_argument("--viewers", type=int, default=1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-logs-") as tmp:
        path = Path(tmp) / "big.log"
        t = time.perf_counter()
        make_file(path, args.size_mb)
        print(f"file: {os.path.getsize(path) / 2**30:.2f} GiB written in {time.perf_counter() - t:.1f} s")
        src = LogSource(name="bench", path=str(path))

        got = tail(str(path), 200)
        assert len(got) == 200 and got[-1].startswith(b"2025-11-26T"), "tail returned the wrong lines"
        report("tail(path, 200) (bytes)", timed(lambda: tail(str(path), 200), args.runs))
        report("read_lines(200) (parsed LogLine objects)", timed(lambda: read_lines(src, 200, LogFilter()), args.runs))
        report("read_lines(200, level=err) (no match: 64 MiB cap)",
               timed(lambda: read_lines(src, 200, LogFilter.parse(level="err")), max(3, args.runs // 10)))

        port = free_port()
        env = {"SERVER_MONITOR_LOG_SOURCES": json.dumps([{"name": "bench", "path": str(path)}])}
        proc = start_console(port, env)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(timeout=10) as c:
                r = c.get(base + "/api/logs?source=bench&lines=200")
                assert r.status_code == 200 and r.json()["count"] == 200
                report("GET /api/logs?lines=200 (HTTP + JSON)",
                       timed(lambda: c.get(base + "/api/logs?source=bench&lines=200"), args.runs))
            d = live_delays(base, path, args.live, args.viewers)
            if d:
                report("live tail: write -> SSE receipt", d)
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
