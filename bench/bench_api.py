"""GET /api/cpu under 10 concurrent clients, next to a bare FastAPI endpoint served the same way.

Usage: .venv/bin/python bench/bench_api.py [--seconds 10] [--connections 10]

Needs wrk (apt-get install wrk). Both servers run under uvicorn with httptools and the stdlib
asyncio loop (as main.py serves), one worker, access log on for the console as in production. The console
answers from bytes made once per snapshot, so it should stay within 2x of the bare endpoint.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess

from _server import free_port, start, start_console, stop


def wrk(url: str, seconds: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "non2xx": int(errors.group(1)) if errors else 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=10)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    results = {}
    bare_port = free_port()
    bare = start(["bench/bare_app.py", str(bare_port)], f"http://127.0.0.1:{bare_port}/hello")
    try:
        wrk(f"http://127.0.0.1:{bare_port}/hello", 2, args.connections)  # warm-up
        results["bare FastAPI /hello"] = wrk(f"http://127.0.0.1:{bare_port}/hello", args.seconds,
                                             args.connections)
    finally:
        stop(bare)
    port = free_port()
    console = start_console(port)
    try:
        wrk(f"http://127.0.0.1:{port}/api/cpu", 2, args.connections)
        results["console /api/cpu"] = wrk(f"http://127.0.0.1:{port}/api/cpu", args.seconds,
                                          args.connections)
    finally:
        stop(console)
    print(f"{'endpoint':<22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, r in results.items():
        print(f"{name:<22} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['non2xx']:>8}")
    ratio = results["bare FastAPI /hello"]["rps"] / results["console /api/cpu"]["rps"]
    print(f"bare / console throughput: {ratio:.2f}x (target: within 2x)")


if __name__ == "__main__":
    main()
