"""The memory area's own read of /proc/meminfo and /proc/vmstat (monitor/collectors/memory.py
``MemoryReader``) gives what psutil's virtual_memory() and swap_memory() give for the same files
(psutil pointed at them through ``psutil.PROCFS_PATH``): this host's, made-up ones (swap in use,
old field names, available above total), and old kernels' that only psutil's fallbacks answer.
"""
from __future__ import annotations

import re
from pathlib import Path

import psutil
import pytest

from monitor.collectors.memory import MemoryCollector, MemoryReader

VM_FIELDS = ("total", "available", "percent", "used", "free", "buffers", "cached", "shared")


def psutils(proc: Path, monkeypatch) -> tuple[dict, dict]:
    monkeypatch.setattr(psutil, "PROCFS_PATH", str(proc))
    vm = psutil.virtual_memory()._asdict()
    return {k: vm[k] for k in VM_FIELDS}, psutil.swap_memory()._asdict()


def read_once(proc: Path):
    """The reader's answer for these files, its VM fields only (psutil's fallback has more)."""
    reader = MemoryReader(proc=str(proc))
    try:
        got = reader.read()
    finally:
        reader.close()
    return type(got)(vm={k: got.vm[k] for k in VM_FIELDS}, swap=got.swap)


def fake_proc(tmp_path: Path, meminfo: str, vmstat: str) -> Path:
    (tmp_path / "meminfo").write_text(meminfo)
    (tmp_path / "vmstat").write_text(vmstat)
    (tmp_path / "zoneinfo").write_text("Node 0, zone   Normal\n        low      1000\n")
    return tmp_path


def edit(text: str, key: str, value: str | None) -> str:
    """meminfo with one field changed (None: removed)."""
    line = "" if value is None else f"{key}:{value:>16} kB\n"
    return re.sub(rf"^{re.escape(key)}:.*\n", line, text, flags=re.M)


HOST_MEMINFO = Path("/proc/meminfo").read_text()
HOST_VMSTAT = Path("/proc/vmstat").read_text()
SWAPPING_VMSTAT = re.sub(r"^pswpout \d+", "pswpout 987654321", re.sub(
    r"^pswpin \d+", "pswpin 123456789", HOST_VMSTAT, flags=re.M), flags=re.M)
CASES = {
    "this host": (HOST_MEMINFO, HOST_VMSTAT),
    "swap in use": (edit(edit(HOST_MEMINFO, "SwapTotal", "8388604"), "SwapFree", "4194300"),
                    SWAPPING_VMSTAT),
    "no Shmem, old MemShared": (edit(HOST_MEMINFO, "Shmem", None) + "MemShared:   777 kB\n", HOST_VMSTAT),
    "no Buffers, no SReclaimable": (edit(edit(HOST_MEMINFO, "Buffers", None), "SReclaimable", None),
                                    HOST_VMSTAT),
    "available above total": (edit(HOST_MEMINFO, "MemAvailable", "999999999999"), HOST_VMSTAT),
    # Only psutil's fallbacks answer these (and warn): the reader hands them to psutil.
    "no MemAvailable (< 3.14)": (edit(HOST_MEMINFO, "MemAvailable", None), HOST_VMSTAT),
    "MemAvailable 0": (edit(HOST_MEMINFO, "MemAvailable", "0"), HOST_VMSTAT),
    "no pswpin": (HOST_MEMINFO, re.sub(r"^pswpin \d+\n", "", HOST_VMSTAT, flags=re.M)),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # psutil's, for the missing fields
@pytest.mark.parametrize("case", list(CASES))
def test_the_same_files_give_what_psutil_gives(case, tmp_path, monkeypatch):
    proc = fake_proc(tmp_path, *CASES[case])
    want = psutils(proc, monkeypatch)  # first: psutil's fallback reads PROCFS_PATH too
    got = read_once(proc)
    assert (got.vm, got.swap) == want
    if case == "swap in use":
        assert got.swap["sin"] == 123456789 * 4096 and got.swap["percent"] == 50.0
    if case == "available above total":
        assert got.vm["available"] == got.vm["free"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # psutil's: sin and sout set to 0
def test_no_proc_vmstat_is_psutils_answer_not_a_failure(tmp_path, monkeypatch):
    proc = fake_proc(tmp_path, *CASES["this host"])
    (proc / "vmstat").unlink()
    want = psutils(proc, monkeypatch)  # first: psutil's fallback reads PROCFS_PATH too
    got = read_once(proc)
    assert (got.vm, got.swap) == want
    assert got.swap["sin"] == got.swap["sout"] == 0


def test_the_held_files_follow_the_host(tmp_path):
    proc = fake_proc(tmp_path, *CASES["this host"])
    reader = MemoryReader(proc=str(proc))
    try:
        first = reader.read()
        (proc / "meminfo").write_text(edit(HOST_MEMINFO, "MemAvailable", "1024"))
        assert reader.read().vm["available"] == 1024 * 1024 != first.vm["available"]
    finally:
        reader.close()


def test_the_collector_reads_this_hosts_memory():
    c = MemoryCollector()
    try:
        data = c.collect(0.0)
        vm = psutil.virtual_memory()
        assert data.total == vm.total
        assert 0 < data.available <= data.total and data.used == data.total - data.available
        assert data.swap_total == psutil.swap_memory().total
        assert c.collect(1.0).swap_in_per_s is not None  # a rate from the second read on
    finally:
        c.close()
