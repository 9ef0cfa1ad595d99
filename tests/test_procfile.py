"""monitor/procfile.py's HeldFile: a /proc file opened once and read anew with pread.

Real files: /proc/uptime (its text changes every hundredth of a second), a child's
/proc/<pid>/stat (it fails with ESRCH once the child is reaped), a child's /proc/<pid>/maps of
3,000 mappings (a seq_file that a single read gives a page of), a regular file larger than one
read, and a path that does not exist yet.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from monitor.collectors.pressure import PSI_DIR, PressureCollector
from monitor.proc_stat import _read
from monitor.procfile import CHUNK, HeldFile


def fds_open() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_each_read_is_made_anew_from_one_open_file():
    before = fds_open()
    f = HeldFile("/proc/uptime")
    first = f.read()
    time.sleep(0.05)
    second = f.read()
    assert first != second and float(second.split()[0]) > float(first.split()[0])
    assert fds_open() == before + 1
    f.close()
    assert fds_open() == before


def test_a_file_larger_than_one_read_comes_whole(tmp_path):
    path = tmp_path / "big"
    body = os.urandom(CHUNK * 3 + 123)
    path.write_bytes(body)
    assert HeldFile(path).read() == body


MAPPINGS = """
import mmap, sys
kept = [mmap.mmap(-1, 4096, prot=mmap.PROT_READ if i % 2 else mmap.PROT_READ | mmap.PROT_WRITE)
        for i in range(3000)]  # alternate protections: the kernel cannot merge them
print("ready", flush=True)
sys.stdin.read()
"""


def test_a_seq_file_longer_than_a_page_comes_whole():
    """A read of /proc/<pid>/maps stops at about a page; the reads go on to its end, for a held
    file (pread from 0) and for one opened per read (proc_stat's read); a short file is still
    one read."""
    child = subprocess.Popen([sys.executable, "-c", MAPPINGS], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        path = f"/proc/{child.pid}/maps"
        with open(path, "rb") as f:
            whole = f.read()
        assert whole.count(b"\n") > 3000 and len(whole) > 100_000
        fd = os.open(path, os.O_RDONLY)
        try:
            assert len(os.pread(fd, CHUNK, 0)) < 8192  # what one read gives (the bug it was)
        finally:
            os.close(fd)
        held = HeldFile(path)
        first = held.read()
        short = HeldFile(f"/proc/{child.pid}/stat").read()
        assert first == whole and held.read() == whole and _read(path) == whole
        assert short.startswith(f"{child.pid} (".encode()) and short.endswith(b"\n")
        held.close()
    finally:
        child.stdin.close()
        child.wait(10)


def test_an_error_closes_the_file_and_the_next_read_opens_it_again(tmp_path):
    path = tmp_path / "later"
    f = HeldFile(path)
    with pytest.raises(FileNotFoundError):
        f.read()
    path.write_bytes(b"now here\n")
    assert f.read_text() == "now here\n"

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    before = fds_open()
    stat = HeldFile(f"/proc/{child.pid}/stat")
    assert stat.read().startswith(f"{child.pid} (".encode()) and fds_open() == before + 1
    child.kill()
    child.wait(10)  # reaped: the file stands for a process that is gone
    with pytest.raises(ProcessLookupError):
        stat.read()
    assert fds_open() == before  # closed on the error
    with pytest.raises(FileNotFoundError):
        stat.read()  # opened again by path: no such process any more


def test_the_pressure_collector_keeps_its_files_open_across_ticks():
    held = 4 if PSI_DIR.is_dir() else 1  # cpu, memory, io and vmstat; vmstat alone without PSI
    c = PressureCollector()
    before = fds_open()
    first = c.collect(time.monotonic())
    assert first.present == PSI_DIR.is_dir() and fds_open() == before + held
    time.sleep(0.05)
    second = c.collect(time.monotonic())
    assert fds_open() == before + held and second.oom_kills_total is not None
    if second.present:
        assert all(r.some.per_s is not None for r in second.resources)  # a rate between reads
    c.close()
    assert fds_open() == before
    assert c.collect(time.monotonic()).oom_kills_total is not None  # reopened after close
    c.close()
