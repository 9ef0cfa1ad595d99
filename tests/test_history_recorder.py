"""The recorder over real snapshots: a real Sampler (real psutil, a real log file), a busy process
the test starts, error lines it appends; and the minute in progress written at shutdown."""
from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time

from monitor.collectors.cpu import CpuCollector
from monitor.collectors.logs import LogsCollector
from monitor.collectors.processes import ProcessesCollector
from monitor.history.recorder import Accumulator
from monitor.logs.sources import LogSource
from monitor.sampler import Sampler, Store

ERR = "Dec  1 03:12:{s:02d} web1 app[812]: error: connection refused ({i})\n"


def test_a_minute_of_real_snapshots(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("Dec  1 03:00:00 web1 app[812]: error: old, before the console started\n")
    collectors = [CpuCollector(), ProcessesCollector(interval=0.1),
                  LogsCollector([LogSource(name="app", kind="file", path=str(log))])]
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass", "recorder-busy-test"])
    try:
        async def run() -> Accumulator:
            store = Store(100)
            sampler = Sampler(store, collectors, 0.2, 5.0)
            acc, seen = Accumulator(0), set()
            for i in range(8):
                if i in (3, 5):
                    with open(log, "a") as f:
                        f.write(ERR.format(s=i, i=i))
                await sampler.sample_once()
                acc.add(store.latest, seen)
                acc.add(store.latest, seen)  # a snapshot seen twice adds no line twice
                await asyncio.sleep(0.25)
            sampler.close()
            return acc
        acc = asyncio.run(run())
        seen_procs = dict(acc.procs)
        minute = acc.finish({})
    finally:
        busy.kill()
        busy.wait(5)
    lo, mean, hi, n = minute.rollups["cpu.percent"]
    assert n == 16 and 0 <= lo <= mean <= hi <= 100
    # The spinning process is among the busiest of every tick; which five win the minute depends on
    # what else this shared machine runs, so the test checks the ranking, not a place in it.
    mine = next(p for (pid, _), p in seen_procs.items() if pid == busy.pid)
    assert mine["cpu_percent"] > 5 and "recorder-busy-test" in mine["command"] and mine["started"] > 0
    cpus = [p["cpu_percent"] for p in minute.top["cpu"]]
    assert len(cpus) == 5 and cpus == sorted(cpus, reverse=True) and cpus[-1] >= 0
    assert (busy.pid in [p["pid"] for p in minute.top["cpu"]]) == (mine["cpu_percent"] >= cpus[-1])
    assert all("unit" in p for p in minute.top["cpu"])  # from /proc/PID/cgroup (None without systemd)
    assert minute.logs["counts"] == {"app": 2}
    assert [l["message"][-3:] for l in minute.logs["lines"]] == ["(3)", "(5)"]


def test_shutdown_writes_the_minute_in_progress(make_client, tmp_path):
    client = make_client(collectors=[CpuCollector()], tick=0.2, data_dir=tmp_path)
    time.sleep(1.5)
    started = int(time.time() // 60)
    client.__exit__(None, None, None)  # the lifespan ends: Recorder.stop()
    with sqlite3.connect(tmp_path / "history.sqlite") as c:
        minutes = [m for (m,) in c.execute("SELECT minute FROM minute")]
        n = c.execute("SELECT sum(n) FROM rollup JOIN series ON series.id = rollup.series "
                      "WHERE series.name = 'cpu.percent'").fetchone()[0]
    assert minutes and max(minutes) >= started - 1
    assert n >= 5  # about 7 ticks of 0.2 s, all of them written though no minute had ended
