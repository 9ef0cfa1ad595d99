"""The CPU area reads /proc/stat once a tick and parses it itself (monitor/collectors/cpu.py):
what it makes of a file is what psutil's cpu_times, cpu_times(percpu=True) and cpu_stats make
of the same file."""
from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from monitor.collectors.cpu import CpuCollector, parse_stat


def psutil_on(monkeypatch, root: Path):
    monkeypatch.setattr(psutil, "PROCFS_PATH", str(root))
    return (psutil.cpu_times()._asdict(), [t._asdict() for t in psutil.cpu_times(percpu=True)],
            psutil.cpu_stats())


def a_host_stat(cores: int, irqs: int) -> bytes:
    """A /proc/stat as a big host writes it: ``cores`` CPUs, ``irqs`` per-IRQ counts."""
    def cpu(name: str, k: int) -> str:
        return f"{name} {' '.join(str(k * 1000 + j * 7) for j in range(10))}"
    lines = [cpu("cpu", cores * 3)] + [cpu(f"cpu{i}", i + 1) for i in range(cores)]
    lines += [f"intr 987654321 {' '.join(str(i % 97) for i in range(irqs))}",
              "ctxt 123456789", "btime 1764150000", "processes 4242", "procs_running 3",
              "procs_blocked 0", f"softirq 55555 {' '.join('1' for _ in range(10))}"]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("source", ["this host", "a big host"])
def test_the_same_file_gives_what_psutil_gives(monkeypatch, tmp_path, source):
    data = Path("/proc/stat").read_bytes() if source == "this host" else a_host_stat(256, 20000)
    (tmp_path / "stat").write_bytes(data)
    times, per_core, stats = psutil_on(monkeypatch, tmp_path)
    raw = parse_stat(data, (0.5, 0.25, 0.125))
    assert raw.times == times
    assert raw.per_core == per_core
    assert len(raw.per_core) == (256 if source == "a big host" else len(per_core))
    assert (raw.ctx_switches, raw.interrupts) == (stats.ctx_switches, stats.interrupts)
    assert raw.loadavg == (0.5, 0.25, 0.125)


def test_a_live_reading_lies_between_two_of_psutils():
    """Counters only grow: a reading taken between two of psutil's is between them, core by core."""
    collector = CpuCollector()
    try:
        before, cores_before = psutil.cpu_times(), psutil.cpu_times(percpu=True)
        stats_before = psutil.cpu_stats()
        time.sleep(0.25)
        data = collector.collect(time.monotonic())
        after, cores_after = psutil.cpu_times(), psutil.cpu_times(percpu=True)
        stats_after = psutil.cpu_stats()
    finally:
        collector.close()
    for mode in ("user", "system", "idle"):
        assert getattr(before, mode) <= data.times[mode] <= getattr(after, mode) + 0.01, mode
    assert len(data.per_core_times) == len(cores_after) == data.count
    for got, lo, hi in zip(data.per_core_times, cores_before, cores_after):
        assert lo.idle <= got["idle"] <= hi.idle + 0.01
    assert data.percent is not None and 0.0 <= data.percent <= 100.0
    assert stats_before.ctx_switches <= data.ctx_switches <= stats_after.ctx_switches
    assert stats_before.interrupts <= data.interrupts <= stats_after.interrupts


def test_the_collector_follows_its_file_between_reads(tmp_path):
    """The file stays open and is read again from the start each tick: a changed file is seen."""
    stat = tmp_path / "stat"
    stat.write_bytes(a_host_stat(4, 100))
    collector = CpuCollector(stat=str(stat))
    try:
        time.sleep(0.25)
        text = a_host_stat(4, 100).decode().replace("ctxt 123456789", "ctxt 123457789")
        busier = text.replace("cpu0 1000 1007", "cpu0 1100 1007")  # cpu0: 100 more user ticks
        stat.write_text(busier)  # in place: the same inode the collector holds
        data = collector.collect(time.monotonic())
    finally:
        collector.close()
    assert data.ctx_switches == 123457789 and data.ctx_switches_per_s > 0
    assert data.per_core[0] == 100.0 and data.per_core[1] is None  # cpu1 did not move at all


def test_a_stat_longer_than_one_read_is_read_whole(tmp_path):
    """A host with thousands of IRQs writes an intr line longer than HeldFile's 64 KiB chunk: the
    lines after it (ctxt) are still read."""
    data = a_host_stat(64, 40000)
    assert len(data) > 65536
    stat = tmp_path / "stat"
    stat.write_bytes(data)
    collector = CpuCollector(stat=str(stat))
    try:
        time.sleep(0.25)
        got = collector.collect(time.monotonic())
    finally:
        collector.close()
    assert got.ctx_switches == 123456789 and got.interrupts == 987654321 and got.count == 64
