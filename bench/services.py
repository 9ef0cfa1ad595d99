"""Services area cost with 200 and 2,000 units: the signals path next to re-reading every unit.

usage: .venv/bin/python bench/services.py [--units 200 2000] [--ticks 50]   (as root)

For each count it boots the tests' harness (tests/systemd_harness.py: a real systemd --user under
its own D-Bus, boxed in), generates that many unit files (oneshot, RemainAfterExit: active, no
process left), starts them all through one target, and prints:
  - first listing: ListUnits + Properties.Get per unit, once at connect (what a restart of the console costs);
  - tick, idle: ServicesCollector.collect() and series() when nothing changed (the signals path: what the
    sampler pays every second on a quiet host);
  - tick, 1 change: collect() after one unit was restarted (its signals applied, one unit
    re-shaped, the list re-sorted);
  - re-read all: what a collector without signals would pay every tick: ListUnits + the same
    Properties.Get calls for every unit, and ListUnits alone (states only, no NRestarts/MainPID/Result);
  - costs pass: one cgroup read of every unit (process_interval), pointed at this hybrid machine's
    unified hierarchy as if it were v2 (only cpu.stat and *.pressure exist there, so it is a
    lower bound of a v2 host's pass).
Ratios are against the idle tick of the same run. Figures go in the issue's note; not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dbus_fast import BusType
from dbus_fast.aio import MessageBus

from monitor.collectors.services import ServicesCollector
from monitor.services_bus import UnitWatcher
from monitor.services_read import IN_FLIGHT
from tests.systemd_harness import Harness, usable


def ms(v: float) -> str:
    return f"{v * 1000:9.3f} ms"


def median_time(fn, n: int) -> float:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


async def reread(address: str, with_props: bool) -> float:
    """One full pass as a collector without signals would do it each tick."""
    w = UnitWatcher(address)
    w._calls = asyncio.Semaphore(IN_FLIGHT)
    bus = await MessageBus(bus_address=address, bus_type=BusType.SYSTEM).connect()
    try:
        t = time.perf_counter()
        if with_props:
            await w._read_all(bus)
        else:
            await w._call(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                          "org.freedesktop.systemd1.Manager", "ListUnits")
        return time.perf_counter() - t
    finally:
        bus.disconnect()


def run(n: int, ticks: int) -> None:
    with Harness() as h:
        for i in range(n):
            h.write_unit(f"bench-{i:05d}.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\n"
                                                   "ExecStart=/bin/true\n")
        wants = " ".join(f"bench-{i:05d}.service" for i in range(n))
        h.write_unit("bench.target", f"[Unit]\nWants={wants}\n")
        h.reload()
        h.start_unit("bench.target")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            out = h.busctl("call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                           "org.freedesktop.systemd1.Manager", "ListUnitsByPatterns", "asas",
                           "1", "active", "1", "bench-*")
            if int(out.split()[1]) >= n:
                break
            time.sleep(0.5)
        c = ServicesCollector(h.address, cgroup_mode="hybrid")
        t = time.perf_counter()
        c.watcher.start(wait=120)
        first = time.perf_counter() - t
        data = c.collect(time.time())
        total = data.total
        def tick():  # what the sampler calls each tick
            c.series(c.collect(time.time()))
        idle = median_time(tick, ticks)

        def one_change():
            tick()
        changes = []
        for i in range(min(ticks, 20)):
            h.call("RestartUnit", "ss", f"bench-{i:05d}.service", "replace")
            time.sleep(0.15)  # its signals arrive and the watcher re-reads it
            t0 = time.perf_counter()
            one_change()
            changes.append(time.perf_counter() - t0)
        change = statistics.median(changes)
        full = statistics.median(asyncio.run(reread(h.address, True)) for _ in range(3))
        states = statistics.median(asyncio.run(reread(h.address, False)) for _ in range(5))
        v2 = ServicesCollector(h.address, cgroup_mode="v2", cgroup_root=Path("/sys/fs/cgroup/unified"))
        v2.collect(time.time())
        v2._units = dict(c._units)
        costs = median_time(lambda: v2._read_costs(time.time()), 5)
        v2.close()
        c.close()
    print(f"\n{n} generated units ({total} units of the shown types listed)")
    print(f"  first listing at connect     {ms(first)}")
    print(f"  tick, idle (signals path)    {ms(idle)}   1x")
    print(f"  tick, 1 unit changed         {ms(change)}   {change / idle:8.1f}x")
    print(f"  re-read all (ListUnits+Get)  {ms(full)} {full / idle:8.0f}x")
    print(f"  re-read states (ListUnits)   {ms(states)}   {states / idle:8.0f}x")
    print(f"  costs pass (every process_interval) {ms(costs)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=[200, 2000])
    ap.add_argument("--ticks", type=int, default=50)
    args = ap.parse_args()
    why = usable()
    if why:
        sys.exit(f"bench/services.py: {why}")
    for n in args.units:
        run(n, args.ticks)


if __name__ == "__main__":
    main()
