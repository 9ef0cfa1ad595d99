"""Logs area: the per-tick cost of LogsCollector.collect() with a 1 GB log file configured.

Usage: .venv/bin/python bench/bench_logs_area.py [--size-mb 1024] [--ticks 200] [--lines 100] [--journal]

1. Writes a ~1 GB syslog-shaped file of real lines (bench_logs.make_file) in a temporary directory.
2. First tick: opens the file at its end (the 1 GB already there is never read or counted).
3. Idle ticks: nothing appended; each tick is a status check, two stats and no read.
4. Busy ticks: --lines lines appended before each tick (1 in 10 an error line), then collect().
   Also the bytes the process read over all ticks (/proc/self/io rchar), to show the 1 GB file
   is not read. With --journal, the system journal is a source too (journalctl started every 5 s
   without waiting; its start and its collection land on some ticks: see p99 and max).
Prints p50 / p95 / p99 / max per tick in microseconds.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_logs import make_file, pct  # noqa: E402

from monitor.collectors.logs import LogsCollector  # noqa: E402
from monitor.logs.sources import LogSource  # noqa: E402


def rchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


def report(name: str, us: list[float]) -> None:
    print(f"{name:<34} n={len(us):<4} p50={statistics.median(us):8.1f} us  p95={pct(us, 95):8.1f} us"
          f"  p99={pct(us, 99):8.1f} us  max={max(us):8.1f} us")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--ticks", type=int, default=200)
    ap.add_argument("--lines", type=int, default=100, help="lines appended before each busy tick")
    ap.add_argument("--journal", action="store_true", help="add the system journal as a source")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-logs-area-") as d:
        path = Path(d) / "big.log"
        t = time.perf_counter()
        make_file(path, args.size_mb)
        print(f"file: {path.stat().st_size / 2**30:.2f} GiB written in {time.perf_counter() - t:.1f} s")
        sources = [LogSource(name="big", kind="file", path=str(path))]
        if args.journal:
            sources.append(LogSource(name="journal", kind="journal"))
        c = LogsCollector(sources)
        now = 0.0

        def tick() -> float:
            nonlocal now
            now += 1.0
            t0 = time.perf_counter()
            c.collect(now)
            return (time.perf_counter() - t0) * 1e6

        r0 = rchar()
        report("first tick (opens at the end)", [tick()])
        print(f"  bytes read by the first tick: {rchar() - r0}")

        r0 = rchar()
        report("idle tick (nothing appended)", [tick() for _ in range(args.ticks)])
        print(f"  bytes read over {args.ticks} idle ticks: {rchar() - r0}")

        err = "2025-11-26T11:00:00.000000+00:00 web1 app[4242]: error: upstream timed out id={i}\n"
        ok = "2025-11-26T11:00:00.000000+00:00 web1 app[4242]: request id={i} status=200 took=3ms\n"
        busy, appended, r0 = [], 0, rchar()
        with open(path, "a") as f:
            for k in range(args.ticks):
                block = "".join((err if i % 10 == 0 else ok).format(i=i) for i in range(args.lines))
                f.write(block)
                f.flush()
                appended += len(block)
                busy.append(tick())
        report(f"busy tick (+{args.lines} lines each)", busy)
        print(f"  bytes read over {args.ticks} busy ticks: {rchar() - r0} (appended: {appended})")
        data = c.collect(now)
        print(f"  errors_per_minute after the busy run: {data.errors_per_minute} "
              f"(window holds the last 60 ticks x {args.lines // 10} error lines)")
        c.close()


if __name__ == "__main__":
    main()
