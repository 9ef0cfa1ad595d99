"""The process table's per-process reads: four files of /proc per process, psutil's meanings.

Why not ``psutil.Process.as_dict``: for the table's ten fields psutil opens and parses six files
and calls per process per read (stat twice through ``is_running``/``ppid``, status, statm,
cmdline, ``getpriority``, and ``/sys/devices/system/cpu/online`` for ``cpu_percent``'s
``cpu_count()``, ``/proc/stat`` for ``create_time``'s ``boot_time()``). Every field the table shows
is in ``/proc/<pid>/stat``, but the real uid (``status``), the exact RSS (``statm``) and the
arguments (``cmdline``): reading those four directly costs about a third of ``process_iter``
over the same fields
(bench/bench_processes.py prints both). Everything else about a process (the detail page,
actions) still goes through psutil.

Each value means what psutil's does, so the rows, the API and the detail page agree:
- ``name``: comm, extended from argv[0] when comm is full (15 bytes) and argv[0]'s base name
  starts with it (``psutil.Process.name``); bytes decoded as psutil does (UTF-8, surrogateescape).
- ``cmdline``: NUL-separated, or space-separated for a process that rewrote its title
  (``psutil._pslinux.Process.cmdline``); ``[]`` for a kernel thread, None for a zombie. Unlike
  psutil's, a CR in an argument stays a CR (``argv_of``); the detail page reads it the same way.
- ``status``: psutil's word for stat's state letter; ``rss``: statm's resident pages × page size
  (stat's and status's are the kernel's per-CPU approximation of it, off by a few hundred KiB,
  so neither psutil nor top reads them); ``nice`` stat's (what getpriority returns); ``create_time``:
  boot time + starttime / CLK_TCK, psutil's formula, so ``?started=`` links match the detail.
- ``cpu_ticks``: utime + stime in clock ticks; the collector turns two of them into a percent
  of one CPU over the wall time between them, which is psutil's ``cpu_percent``.

A process that exits mid-read is None (skipped); a file that may not be read leaves its fields
None (under ``hidepid`` a listed process has only its pid).

The table reads through monitor/proc_reader.py's Reader: stat and statm every read (from files
it keeps open), status and cmdline only now and then (its docstring says when and why).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from psutil._pslinux import PROC_STATUSES

from .procfile import read_whole

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
COMM_FULL = 15  # bytes of comm the kernel keeps: a name this long may be cut


@dataclass(frozen=True, slots=True)
class PidStat:
    """One process as its /proc files say, read once. None where the file could not be read."""
    pid: int
    start_ticks: int | None = None  # starttime: with pid, the identity (PIDs are reused)
    name: str | None = None
    status: str | None = None
    ppid: int | None = None
    cpu_ticks: int | None = None  # utime + stime
    nice: int | None = None
    num_threads: int | None = None
    rss: int | None = None  # bytes
    uid: int | None = None  # real uid
    cmdline: list[str] | None = None
    comm: str | None = None  # stat's comm, before ``name`` is extended from argv[0]
    reused: bool = False  # uid and cmdline were taken from an earlier read (``read_pid``)


_btime: dict[str, float] = {}  # root -> btime last read


def boot_time(root: str = "/proc") -> float:
    """``btime`` of /proc/stat, as psutil.boot_time() reads it, read again only when the clocks
    say it moved. btime is the wall clock's time of boot, whole seconds: the kernel's wall clock
    less its time since boot (CLOCK_BOOTTIME), so it moves only when the wall clock is stepped
    (NTP, an operator), and then so does ``time.time() - CLOCK_BOOTTIME``. The process table and
    the host's facts ask at every read; /proc/stat costs 0.13 ms a read here, far more on a host
    with many CPUs and IRQs (issue 19)."""
    since = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
    known = _btime.get(root)
    if known is None or not known - 0.5 <= since < known + 1.5:  # [btime, btime + 1) and a margin
        known = _btime[root] = _read_btime(root)
    return known


def _read_btime(root: str) -> float:
    with open(f"{root}/stat", "rb") as f:
        for line in f:
            if line.startswith(b"btime"):
                return float(line.split()[1])
    raise RuntimeError(f"no btime in {root}/stat")


def pids(root: str = "/proc") -> list[int]:
    return [int(n) for n in os.listdir(root) if n.isdigit()]


def _read(path: str) -> bytes:
    """The whole file with raw reads (no buffered file object per file: this runs per process)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return read_whole(fd, positional=False)
    finally:
        os.close(fd)


def split_cmdline(data: str) -> list[str]:
    """psutil's split of /proc/<pid>/cmdline's text."""
    sep = "\x00" if data.endswith("\x00") else " "
    if data.endswith(sep):
        data = data[:-1]
    argv = data.split(sep)
    if sep == "\x00" and len(argv) == 1 and " " in data:
        argv = data.split(" ")  # a rewritten title ending in NUL but spaced (psutil issue 1179)
    return argv


def argv_of(raw: bytes | None, zombie: bool) -> list[str] | None:
    """/proc/<pid>/cmdline's bytes as psutil splits them, but byte for byte: psutil reads the file
    in universal-newline text mode, so an argument's CR would arrive as LF. ``[]`` for a kernel
    thread, None for a zombie (it has none left) or a file that could not be read."""
    if raw is None:
        return None
    if not raw:
        return None if zombie else []
    return split_cmdline(raw.decode("utf-8", "surrogateescape"))


def read_cmdline(pid: int, root: str = "/proc") -> list[str] | None:
    """One process's arguments (``argv_of``); None when it has exited or may not be read."""
    try:
        return argv_of(_read(f"{root}/{pid}/cmdline"), zombie=False)
    except OSError:
        return None


def parse_stat(data: bytes) -> tuple[str, str, int, int, int, int, int]:
    """/proc/<pid>/stat -> comm, status word, ppid, cpu ticks (utime + stime), nice, threads,
    start ticks. comm sits between the first "(" and the last ")" (it may hold both)."""
    rpar = data.rfind(b")")
    f = data[rpar + 2:].split()
    # f[0] is field 3 of proc(5): state; 4 ppid; 14 utime; 15 stime; 19 nice; 20 threads;
    # 22 starttime
    return (data[data.find(b"(") + 1:rpar].decode("utf-8", "surrogateescape"),
            PROC_STATUSES.get(f[0].decode("ascii", "replace"), "?"),
            int(f[1]), int(f[11]) + int(f[12]), int(f[16]), int(f[17]), int(f[19]))


def real_uid(status: bytes) -> int | None:
    at = status.find(b"\nUid:")
    return int(status[at + 5:].split(None, 1)[0]) if at >= 0 else None


def _read_or_none(path: str) -> bytes | None:
    """The file, or None where it may not be read (``hidepid``, a ptrace-protected process)."""
    try:
        return _read(path)
    except PermissionError:
        return None


def read_pid(pid: int, root: str = "/proc", reuse: PidStat | None = None) -> PidStat | None:
    """One process's stat, status, statm and cmdline; None when it has exited. With ``reuse``,
    an earlier read of this pid, its uid and arguments are taken from there instead of status and
    cmdline while stat says it is the same process (start time) under the same comm, and alive
    (a zombie has no arguments left)."""
    base = f"{root}/{pid}"
    try:
        stat = _read_or_none(f"{base}/stat")
        if stat is None:
            return PidStat(pid)  # listed, not readable
        return from_files(pid, base, stat, _read_or_none(f"{base}/statm"), reuse)
    except (FileNotFoundError, ProcessLookupError):
        return None  # exited between the listing and here


def from_files(pid: int, base: str, stat: bytes, statm: bytes | None,
               reuse: PidStat | None = None) -> PidStat:
    """``read_pid`` once stat and statm are read: status and cmdline from ``base`` unless
    ``reuse`` stands for them. Raises FileNotFoundError or ProcessLookupError when the process
    has exited meanwhile."""
    comm, state, ppid, cpu_ticks, nice, threads, start = parse_stat(stat)
    if (reuse is not None and reuse.start_ticks == start and reuse.comm == comm
            and state != "zombie"):
        return PidStat(pid, start, reuse.name, state, ppid, cpu_ticks, nice, threads,
                       _rss(statm), reuse.uid, reuse.cmdline, comm, reused=True)
    status = _read_or_none(f"{base}/status")
    raw = _read_or_none(f"{base}/cmdline")
    argv = argv_of(raw, zombie=state == "zombie")
    name = comm
    if len(name) >= COMM_FULL and argv:
        extended = os.path.basename(argv[0])
        if extended.startswith(name):
            name = extended
    return PidStat(pid, start, name, state, ppid, cpu_ticks, nice, threads, _rss(statm),
                   real_uid(status) if status is not None else None, argv, comm)


def _rss(statm: bytes | None) -> int | None:
    return int(statm.split()[1]) * PAGE_SIZE if statm else None
