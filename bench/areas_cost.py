"""What each area costs per tick: its collector's CPU (thread time) and the memory it holds.

usage: .venv/bin/python bench/areas_cost.py [--ticks 30]

Every default collector (monitor/areas.py, this host's settings) is built and read once, then
read ``--ticks`` times, 0.2 s apart, in this one thread, as the sampler's batch thread reads them.
It prints per area: CPU per collection (``time.thread_time``: user + system of this thread),
what that is per second at the area's interval (0 = every 1 s tick), and the Python memory its
collector holds after being built and read once (tracemalloc: its tables, caches and first
model; the modules themselves are imported by monitor/areas.py before any is built, and the
process's RSS with all of them is printed). The reference is the sum over all areas measured in
the same run; the judge, the history recorder and the views
are not in it (bench/perf_idle.py measures the whole console). Nothing here is a test.

Sample (2 cores, no systemd, 2026-12-02; process RSS with every area built: 44.2 MiB):
    area          ms cpu/read  interval s  % of a core holds MiB
    system              0.275         1.0        0.028      0.01
    cpu                 0.218         1.0        0.022      0.00
    memory              0.179         1.0        0.018      0.00
    disks               0.384         1.0        0.038      0.02
    network             0.570         1.0        0.057      0.01   (TCP counted every 5 s)
    sensors             0.178         2.0        0.009      0.00
    pressure            0.256         1.0        0.026      0.00
    services            0.021         1.0        0.002      0.01   (no systemd on this machine)
    processes           2.998         2.0        0.150      0.04
    logs                0.082         1.0        0.008      0.01
    all areas                                    0.347      0.10
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.areas import AREAS  # noqa: E402
from monitor.settings import Settings  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=30)
    args = ap.parse_args()
    settings = Settings()
    built, grew = [], {}
    tracemalloc.start()
    for area in AREAS:
        before = tracemalloc.get_traced_memory()[0]
        c = area.make(settings)
        c.series(c.collect(time.monotonic()))
        grew[area.name] = (tracemalloc.get_traced_memory()[0] - before) / 2**20
        built.append(c)
    tracemalloc.stop()
    print(f"process RSS with every area built and read once: {rss_mib():.1f} MiB")
    cost: dict[str, list[float]] = {c.name: [] for c in built}
    for _ in range(args.ticks):
        time.sleep(0.2)
        now = time.monotonic()
        for c in built:
            t = time.thread_time()
            c.series(c.collect(now))
            cost[c.name].append(time.thread_time() - t)
    print(f"{'area':<12} {'ms cpu/read':>12} {'interval s':>11} {'% of a core':>12} {'holds MiB':>9}")
    total = 0.0
    for c in built:
        ms = statistics.mean(cost[c.name]) * 1000  # the mean: some work is every Nth read
        per_s = ms / max(c.interval or 1.0, 1.0) / 10  # ms per second -> % of one core
        total += per_s
        print(f"{c.name:<12} {ms:>12.3f} {max(c.interval or 1.0, 1.0):>11.1f} {per_s:>12.3f} "
              f"{grew[c.name]:>9.2f}")
    print(f"{'all areas':<12} {'':>12} {'':>11} {total:>12.3f} {sum(grew.values()):>9.2f}")
    for c in built:
        if callable(getattr(c, "close", None)):
            c.close()


if __name__ == "__main__":
    main()
