"""The dashboard's sparklines: time per tick and memory kept, against formatting every point.

usage: .venv/bin/python bench/bench_sparklines.py [--series 10] [--ticks 600]

A History of ``--series`` series (four of them noisy, the rest flat at 0, as disks and logs are
on a quiet host) gets one point a second; each tick every series is drawn twice (the display and
the full scope), as the cards draw them: ``sparkline_path(history.points(name, 300))``. The
reference, in the same run, formats every point of the same lists each time (a plain list, no
kept path). Memory is what tracemalloc sees still held after the run (the kept paths).

Sample (2 cores, 2026-12-03, a slow hour): kept paths 1.28 ms a tick, 61 KiB kept; every point
formatted 7.20 ms (5.6x). The cache of every point's text this replaced (``PointTexts``, 83c077b),
in the same harness: 3.53 ms a tick and 760 KiB kept.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.store import History  # noqa: E402
from views import charts  # noqa: E402


def run(series: int, ticks: int, plain: bool, traced: bool = False) -> tuple[float, int]:
    history = History(900)
    names = [f"s{i}" for i in range(series)]
    rng = random.Random(1)
    t0 = time.time() - 2 * ticks
    charts._paths.clear()

    def tick(k: int) -> None:
        history.add(t0 + k, {n: rng.random() * 100 if i < 4 else 0.0 for i, n in enumerate(names)})

    for k in range(300):  # a full window before measuring
        tick(k)
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    for k in range(300, 300 + ticks):
        tick(k)
        for n in names:
            for _ in range(2):
                points = history.points(n, 300)
                charts.sparkline_path(list(points) if plain else points)
    seconds = (time.perf_counter() - start) / ticks
    kept = tracemalloc.get_traced_memory()[0] if traced else 0
    tracemalloc.stop()
    return seconds, kept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=10)
    ap.add_argument("--ticks", type=int, default=600)
    args = ap.parse_args()
    kept_s, _ = run(args.series, args.ticks, plain=False)
    plain_s, _ = run(args.series, args.ticks, plain=True)
    _, kept_mem = run(args.series, 300, plain=False, traced=True)  # a second pass: tracemalloc is slow
    print(f"{args.series} series x 2 scopes, {args.ticks} ticks")
    print(f"kept paths           {kept_s * 1e3:8.3f} ms a tick   {kept_mem / 1024:6.0f} KiB kept")
    print(f"every point formatted {plain_s * 1e3:7.3f} ms a tick   ratio {plain_s / kept_s:.2f}x")


if __name__ == "__main__":
    main()
