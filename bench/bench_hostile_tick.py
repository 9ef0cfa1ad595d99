"""Tick cost on a hostile host (issue 10): worst and median, without and with tests/hostile.py's
processes running, in the same run.

usage: .venv/bin/python bench/bench_hostile_tick.py [--ticks 15] [--pause 0.5] [--no-sampler]

Three measures, each first on the host as it is, then with the hostile host running (names and
argv of invalid UTF-8 and escapes, a zombie, a busy process, one 128 KiB argument, 10,000
arguments, a command line full of secrets):
  - processes: ``ProcessesCollector.collect()`` plus shaping what views serve from it (the
    snapshot summary's JSON and every row's JSON, as /api/processes?limit=10000 would). The same
    collector object keeps running when the hostile processes appear, as in a running console, so
    the first tick that sees them (masking and cleaning a 2 MiB-ish host, uncached) is the worst;
  - all collectors: every default collector's ``collect()`` in turn plus each area's JSON: the
    work one tick asks for, whatever the sampler's scheduling;
  - sampler: ``Sampler.sample_once()`` (threads, budgets, judge) when it can be built here.
The busy hostile process holds one CPU while "with" is measured: that is part of the scenario.
Figures go in the issue's note; nothing here is a test.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.collectors import default_collectors  # noqa: E402
from monitor.collectors.processes import ProcessesCollector  # noqa: E402
from tests.hostile import hostile_host  # noqa: E402


def ms(v: float) -> str:
    return f"{v * 1000:8.2f} ms"


def timed(fn: Callable[[], object], ticks: int, pause: float) -> list[float]:
    out = []
    for _ in range(ticks):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
        time.sleep(pause)
    return out


def processes_tick(collector: ProcessesCollector) -> Callable[[], object]:
    def run() -> object:
        data = collector.collect(time.monotonic())
        data.model_dump_json()  # the snapshot's part
        return json.dumps([r.model_dump() for r in data.rows])  # /api/processes?limit=10000
    return run


def collectors_tick(collectors) -> Callable[[], object]:
    def run() -> object:
        now = time.monotonic()
        return [c.collect(now).model_dump_json() for c in collectors]
    return run


def sampler_tick():
    """sample_once of a real Sampler over the default collectors, or None with the reason."""
    try:
        from monitor.sampler import Sampler, Store
        from monitor.settings import Settings
        settings = Settings()
        store = Store(history_length=settings.history_length)
        sampler = Sampler(store, default_collectors(settings), tick=1.0, timeout=settings.collector_timeout)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(sampler.sample_once())  # the first one has its own, longer budget
        return (lambda: loop.run_until_complete(sampler.sample_once())), None
    except Exception as exc:  # noqa: BLE001 - the sampler is being changed; say why and go on
        return None, f"{type(exc).__name__}: {exc}"


def report(name: str, without: list[float], with_: list[float]) -> None:
    w0, w1 = max(without), max(with_)
    m0, m1 = statistics.median(without), statistics.median(with_)
    print(f"{name:<15} without: worst {ms(w0)} median {ms(m0)}   with: worst {ms(w1)} median {ms(m1)}"
          f"   ratio worst {w1 / w0:5.1f}x median {m1 / m0:5.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=15)
    ap.add_argument("--pause", type=float, default=0.5, help="seconds between two ticks")
    ap.add_argument("--no-sampler", action="store_true")
    args = ap.parse_args()

    procs = ProcessesCollector()
    procs.collect(time.monotonic())  # warm: every process on the host seen once
    collectors = default_collectors()
    collectors_tick(collectors)()
    sample, why = (None, "--no-sampler") if args.no_sampler else sampler_tick()

    base = {"processes": timed(processes_tick(procs), args.ticks, args.pause),
            "all collectors": timed(collectors_tick(collectors), args.ticks, args.pause)}
    if sample:
        base["sampler tick"] = timed(sample, args.ticks, args.pause)
    total = len(procs._procs)

    with hostile_host() as host:
        hostile = {"processes": timed(processes_tick(procs), args.ticks, args.pause),
                   "all collectors": timed(collectors_tick(collectors), args.ticks, args.pause)}
        if sample:
            hostile["sampler tick"] = timed(sample, args.ticks, args.pause)
        # A console started with the hostile host already there: a fresh collector's first
        # full read (every command line masked and cleaned, nothing cached).
        fresh = ProcessesCollector()
        t0 = time.perf_counter()
        processes_tick(fresh)()
        cold = time.perf_counter() - t0
        print(f"{args.ticks} ticks each; {total} processes on the host, {len(host.pids)} hostile added "
              f"({', '.join(host.pids)})")
    for name in base:
        report(name, base[name], hostile[name])
    if not sample:
        print(f"sampler tick    skipped: {why}")
    print(f"fresh collector, first full read with the hostile host: {ms(cold)}")


if __name__ == "__main__":
    main()
