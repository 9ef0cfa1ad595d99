"""The disks area's /proc/diskstats (monitor/block_devices.py ``DiskStats``) gives what psutil's
``disk_io_counters(perdisk=True)`` gives for the same file (psutil pointed at it through
``psutil.PROCFS_PATH``): this host's, and made-up lines of every length psutil reads."""
from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from monitor.block_devices import DiskStats, parse_diskstats


def psutils(tmp_path: Path, text: bytes, monkeypatch) -> dict:
    (tmp_path / "diskstats").write_bytes(text)
    monkeypatch.setattr(psutil, "PROCFS_PATH", str(tmp_path))
    return {k: v._asdict() for k, v in psutil.disk_io_counters(perdisk=True, nowrap=False).items()}


def line(*fields: int | str) -> bytes:
    return b" ".join(str(f).encode() for f in fields) + b"\n"


BIG = 2**40  # far past 32 bits
MADE_UP = b"".join([
    line(8, 0, "sda", *range(101, 112)),  # 14 fields (before 4.18)
    line(8, 1, "sda1", *(BIG + i for i in range(15))),  # 18 fields (4.18: discards)
    line(259, 0, "nvme0n1", *range(1, 18)),  # 20 fields (5.5: flushes)
    line(3, 0, 7, "hda", *range(20, 31)),  # 15 fields (2.6.25's)
    line(3, 1, "hda1", 5, 6, 7, 8),  # 7 fields (a 2.6 partition line)
    line(253, 0, "dm-0", *([0] * 17)),
])


@pytest.mark.parametrize("which", ["this host", "made up"])
def test_the_same_file_gives_what_psutil_gives(which, tmp_path, monkeypatch):
    text = Path("/proc/diskstats").read_bytes() if which == "this host" else MADE_UP
    theirs = psutils(tmp_path, text, monkeypatch)
    ours = parse_diskstats(text)
    assert ours == theirs and ours
    held = DiskStats(str(tmp_path / "diskstats"))
    try:
        assert held.read() == theirs
    finally:
        held.close()
    if which == "made up":
        assert ours["sda1"]["read_bytes"] == (BIG + 2) * 512 and ours["hda"]["read_count"] == 7
        assert ours["hda1"]["busy_time"] == 0 and ours["hda1"]["write_bytes"] == 8 * 512


def test_a_line_psutil_cannot_read_is_left_out_and_the_file_is_followed(tmp_path):
    path = tmp_path / "diskstats"
    path.write_bytes(line(8, 0, "sda", *range(11)) + b"8 16 sdb 1 2\n")
    held = DiskStats(str(path))
    try:
        assert list(held.read()) == ["sda"]
        path.write_bytes(line(8, 0, "sda", *range(5, 16)))
        assert held.read()["sda"]["read_count"] == 5  # the held file reads the new text
    finally:
        held.close()


def test_a_host_without_proc_diskstats_is_psutils(tmp_path):
    held = DiskStats(str(tmp_path / "absent"))
    assert held.read() == {k: v._asdict() for k, v in psutil.disk_io_counters(perdisk=True).items()}
