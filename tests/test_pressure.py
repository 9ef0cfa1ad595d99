"""The pressure area: PSI from /proc/pressure and the kernel's OOM kills (monitor/collectors/pressure.py)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.collectors import pressure as pressure_mod
from monitor.collectors.pressure import (OomTracker, PressureCollector, oom_count, read_kernel_log,
                                         shape, shape_psi, victims)
from monitor.measures import MEASURES

# Real lines from this host's /proc/pressure (Linux 6.18).
CPU = ("some avg10=0.00 avg60=0.16 avg300=5.55 total=1693510805\n"
       "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
MEMORY = ("some avg10=0.00 avg60=0.00 avg300=0.05 total=47643299\n"
          "full avg10=0.00 avg60=0.00 avg300=0.01 total=30119195\n")
IO = ("some avg10=12.50 avg60=3.00 avg300=0.80 total=2000000\n"
      "full avg10=7.25 avg60=1.00 avg300=0.20 total=1500000\n")
OLD_CPU = "some avg10=0.00 avg60=0.16 avg300=5.55 total=1693510805\n"  # before 5.13: no full line


def test_shape_psi_reads_some_and_full():
    r = shape_psi(MEMORY)
    assert r["some"] == {"avg10": 0.0, "avg60": 0.0, "avg300": 0.05, "total": 47643299.0}
    assert r["full"]["avg300"] == 0.01


def test_shape_gives_rates_of_the_totals_between_readings():
    prev = {"cpu": CPU, "memory": MEMORY, "io": IO}
    later = IO.replace("total=2000000", "total=2500000").replace("total=1500000", "total=1700000")
    rs = {r.name: r for r in shape({"cpu": OLD_CPU, "memory": MEMORY, "io": later}, prev, 2.0)}
    assert rs["io"].some.per_s == 250000.0 and rs["io"].full.per_s == 100000.0  # µs stalled per s
    assert rs["io"].full.avg10 == 7.25
    assert rs["memory"].some.per_s == 0.0
    assert rs["cpu"].full is None  # no full line for cpu on an older kernel
    first = shape(prev, None, 0.0)
    assert all(r.some.per_s is None for r in first)


def test_no_proc_pressure_is_not_an_error(monkeypatch, tmp_path):
    monkeypatch.setattr(pressure_mod, "PSI_DIR", tmp_path / "absent")
    c = PressureCollector()
    data = c.collect(time.monotonic())
    assert data.present is False and data.resources == []
    assert c.series(data) == {}
    assert [m.measure(data) for m in MEASURES["pressure"][:2]] == [None, None]


def test_card_without_pressure_says_so_and_is_not_unavailable(make_client, monkeypatch, tmp_path):
    monkeypatch.setattr(pressure_mod, "PSI_DIR", tmp_path / "absent")
    client = make_client(collectors=[PressureCollector()])
    r = client.get("/api/pressure")
    assert r.status_code == 200 and r.json()["pressure"]["present"] is False
    html = client.get("/dashboard").text
    assert "no pressure information on this host" in html
    assert "could not be read" not in html


def test_pressure_on_this_machine(make_client):
    client = make_client(collectors=[PressureCollector()])
    body = client.get("/api/pressure").json()["pressure"]
    assert body["present"] == Path("/proc/pressure").is_dir()
    if body["present"]:
        assert [r["name"] for r in body["resources"]] == ["cpu", "memory", "io"]
        html = client.get("/dashboard").text
        assert 'data-metric="pressure.memory.full"' in html
    c = PressureCollector()
    data = c.collect(time.monotonic())
    if data.present:
        assert "pressure.memory.full" in c.series(data) and "pressure.io.some" in c.series(data)


def test_measures_word_the_stall():
    data = PressureCollector.model(present=True, resources=shape({"cpu": CPU, "memory": MEMORY, "io": IO}, None, 0),
                                   oom_kills_total=3, oom_kills_recent=0, oom_recent=[])
    by = {m.check: m for m in MEASURES["pressure"]}
    io = by["pressure_io_full"].measure(data)
    assert io.value == 7.25 and io.text == "all tasks stalled on I/O 7.2 % of the last 10 s"
    assert by["pressure_memory_full"].measure(data).value == 0.0
    assert by["pressure_oom_kills"].measure(data).value == 0


def test_oom_count_and_victims_from_real_kernel_lines():
    assert oom_count("nr_free_pages 1\noom_kill 7\n") == 7
    assert oom_count("nr_free_pages 1\n") is None  # before Linux 4.13
    assert oom_count("oom_kill 3\nx 1\n") == 3 and oom_count("x 1\noom_kill 5") == 5  # first, last
    assert oom_count("x 1\noom_kill_total 9\n") is None  # a longer name is not the counter
    host = Path("/proc/vmstat").read_text()  # what splitting every line finds
    assert oom_count(host) == next((int(v) for k, _, v in (line.partition(" ") for line in host.splitlines())
                                    if k == "oom_kill"), None)
    log = ("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
           "global_oom,task_memcg=/user.slice,task=python3,pid=1234,uid=1000\n"
           "Out of memory: Killed process 1234 (python3) total-vm:9830404kB, anon-rss:8126472kB, "
           "file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:16152kB oom_score_adj:0\n"
           "oom-kill:constraint=CONSTRAINT_MEMCG,task=java,pid=99,uid=0\n")
    assert victims(log) == [(1234, "python3"), (99, "java")]


def test_tracker_names_only_new_kills_and_counts_unnamed_ones():
    t = OomTracker()
    old = "Out of memory: Killed process 5 (old) total-vm:1kB\n"
    t.update(1, 100.0, lambda: old)  # kills before the start are history
    assert list(t.kills) == []
    t.update(3, 101.0, lambda: old + "Out of memory: Killed process 6 (stress) total-vm:1kB\n")
    assert [(k.pid, k.name) for k in t.kills] == [(6, "stress"), (None, None)]
    t.update(3, 101.0 + pressure_mod.OOM_WINDOW + 1, lambda: None)
    assert list(t.kills) == []


def _cgroup(tmp_name: str, limit: int) -> tuple[Path, Path]:
    """(cgroup dir, procs file) of a new memory cgroup with ``limit`` bytes and no swap: cgroup v2
    (memory.max) where /sys/fs/cgroup is unified, else v1's memory controller (memory.limit_in_bytes)."""
    root = Path("/sys/fs/cgroup")
    if (root / "cgroup.controllers").exists():
        d = root / tmp_name
        d.mkdir()
        (d / "memory.max").write_text(str(limit))
        if (d / "memory.swap.max").exists():
            (d / "memory.swap.max").write_text("0")
    else:
        d = root / "memory" / tmp_name
        d.mkdir()
        (d / "memory.limit_in_bytes").write_text(str(limit))
        try:
            (d / "memory.swappiness").write_text("0")
        except OSError:
            pass
    return d, d / "cgroup.procs"


HOG = ("import sys\nsys.stdin.readline()\nchunks = []\n"
       "while True:\n    chunks.append(bytearray(8 << 20))\n")


def test_a_real_oom_kill_in_a_memory_cgroup_is_reported_with_its_victim(make_client):
    can = os.geteuid() == 0 and Path("/sys/fs/cgroup").is_dir() and Path("/proc/vmstat").exists()
    if not can:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: this test needs root and cgroups (a memory cgroup with a limit)")
        pytest.skip("needs root to make a memory cgroup")
    c = PressureCollector()
    c.collect(time.monotonic())  # the first reading: the baseline
    d, procs = _cgroup(f"server-monitor-test-{os.getpid()}", 48 << 20)
    try:
        child = subprocess.Popen([sys.executable, "-c", HOG], stdin=subprocess.PIPE,
                                 preexec_fn=lambda: procs.write_text(str(os.getpid())))
        comm = Path(f"/proc/{child.pid}/comm").read_text().strip()
        child.stdin.write(b"go\n")
        child.stdin.flush()
        assert child.wait(timeout=60) == -9  # SIGKILL from the OOM killer
    finally:
        try:
            d.rmdir()
        except OSError:
            time.sleep(0.5)
            d.rmdir()
    deadline = time.monotonic() + 5
    data = c.collect(time.monotonic())
    while not data.oom_kills_recent and time.monotonic() < deadline:
        time.sleep(0.2)
        data = c.collect(time.monotonic())
    assert data.oom_kills_recent >= 1
    m = next(m for m in MEASURES["pressure"] if m.check == "pressure_oom_kills").measure(data)
    assert m.value >= 1 and m.text.startswith("the kernel killed")
    if read_kernel_log() is not None:  # root on this host: /dev/kmsg is readable
        assert (child.pid, comm) in [(k.pid, k.name) for k in data.oom_recent]
        assert comm in m.text
    else:
        assert len(data.oom_recent) >= 1
    # The console says so as a verdict (and so an event: monitor/events.py records the episode).
    client = make_client(collectors=[c])
    body = client.get("/api/health").text
    assert "pressure_oom_kills" in body and "the kernel killed" in body


def test_an_oom_kill_becomes_an_event_named_after_its_victim():
    """The check pressure_oom_kills leaves ok on the first kill, so monitor/events.py records
    the episode with the victim in its reason; it ends when the kill leaves the window."""
    from monitor.collectors.pressure import OomKill, Pressure
    from monitor.events import EventLog
    from monitor.health import Judge
    from monitor.sampler import Snapshot
    from monitor.thresholds import Thresholds

    def snap(t: float, kills: list) -> Snapshot:
        p = Pressure(present=True, resources=shape({"cpu": CPU, "memory": MEMORY, "io": IO}, None, 0),
                     oom_kills_total=len(kills), oom_kills_recent=len(kills), oom_recent=kills)
        s = Snapshot(seq=1, taken_at=t, areas={"pressure": p}, unavailable={})
        return s
    judge, log = Judge(Thresholds()), EventLog(None)
    for t, kills in ((1000.0, []), (1001.0, [OomKill(at=1001.0, pid=1234, name="python3")]), (1700.0, [])):
        verdicts = judge(snap(t, kills))
        log.update(t, verdicts, {"pressure"})
    (ev,) = [e for e in log.recent() if e.check == "pressure_oom_kills"]
    assert ev.state == "warning" and ev.end == 1700.0
    assert ev.reason.startswith("the kernel killed 1 process (python3) for lack of memory")
