"""The process table's reads with memory: what changes is read every time, what seldom does now
and then, and the files read every time stay open (issue 19: the table was the console's
largest idle cost).

``Reader.read(pid, ...)`` returns what monitor/proc_stat.py's ``read_pid`` returns, by the same
rules (psutil's meanings), and differs only in when it reads:

- **status and cmdline now and then.** What moves (CPU ticks, memory, state, threads) is in stat
  and statm. A process's real uid (status: the kernel formats some 55 lines for that one number,
  the costliest of the four files) and its arguments (cmdline) seldom change once it runs, so
  they are reused from its last whole read while it is the same process (pid and start time)
  under the same comm, for at most REREAD seconds; each pid's turn falls at its own fraction of
  that, so a host's processes are not all read whole on one tick. Always read whole: a process
  first seen, one younger than YOUNG (between fork and exec, or across an exec that keeps the
  parent's comm, the arguments change under an unchanged comm), one whose comm changed (an exec,
  PR_SET_NAME), and a zombie. So a long-running process that retitles itself without touching
  comm (postgres, sshd) or drops privileges late shows it within REREAD seconds, where ps shows
  it at once; the detail page and actions read it fresh.
- **the same text, the same read.** A process that has not run since the last read (most of a
  host's, most of the time) has the same stat and statm text: unless its whole read is due, the
  last PidStat is returned, the same object, unparsed; the collector then keeps its row too.
- **stat and statm stay open** (monitor/procfile.py's HeldFile), read again with ``pread`` at
  offset 0 (procfs makes the text anew on each read): opening and closing them was half of
  their cost. An open file stands for
  the process it was opened for, not its pid: once that process is gone, reading fails with
  ESRCH, the files are closed, and a new process under the same pid is opened afresh. At most
  ``hold_budget()`` processes are held, what RLIMIT_NOFILE leaves after FD_RESERVE descriptors
  for clients, logs and history; the others are opened and closed per read as before.

Measured on 66 processes in one run, reads 50 ms apart (caches as cold as at 2 s), thread time
per read: every file every time 3.8 ms; status and cmdline reused 2.3 ms; stat and statm held
as well 1.6 ms (bench/bench_processes.py prints the table's whole cost). The whole table's read
and shaping, 68 processes, 60 of them idle between reads 0.1 s apart: 3.15 ms a read before the
same text was kept, 2.03 ms after (2026-12-07).
"""
from __future__ import annotations

import resource
from dataclasses import replace

from .proc_stat import CLK_TCK, PidStat, from_files, read_pid
from .procfile import HeldFile

REREAD = 10.0  # s: the longest a process's user and arguments are reused
YOUNG = 10.0  # s: a process younger than this is read whole on every read
FD_RESERVE = 1024  # descriptors left to everything else: clients, log files, history, threads
HOLD_CAP = 8192  # processes held open at most, whatever the limit (two descriptors each)
FD_WANTED = 2 * HOLD_CAP + FD_RESERVE


def raise_fd_limit() -> None:
    """Raise RLIMIT_NOFILE's soft limit towards FD_WANTED, within the hard limit (main.py, at
    start). systemd gives services a soft 1,024 (for select()) under a hard 524,288; the console
    never uses select(), and Go's and Java's runtimes raise it the same way."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = FD_WANTED if hard == resource.RLIM_INFINITY else min(hard, FD_WANTED)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def hold_budget() -> int:
    """How many processes' stat and statm may stay open under this process's RLIMIT_NOFILE."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return HOLD_CAP
    return max(0, min(HOLD_CAP, (soft - FD_RESERVE) // 2))


class Reader:
    """One per process table (the collector's); used by one thread at a time."""

    def __init__(self, root: str = "/proc", reread: float = REREAD, hold: int | None = None) -> None:
        self.root, self.reread = root, reread
        self.hold = hold_budget() if hold is None else hold
        self._whole: dict[int, tuple[PidStat, float]] = {}  # pid -> last whole read, when it expires
        # pid -> its stat and statm, kept open (a dropped Reader's files close with them)
        self._held: dict[int, tuple[HeldFile, HeldFile]] = {}
        # pid -> the stat and statm text of its last held read, and what it made (reused=True)
        self._text: dict[int, tuple[bytes, bytes, PidStat]] = {}

    def read(self, pid: int, now: float, uptime: float) -> PidStat | None:
        """``now``: time.monotonic(); ``uptime``: seconds since boot (CLOCK_BOOTTIME, the clock
        of stat's start time). None when the process has exited."""
        known = self._whole.get(pid)
        reuse = None
        if known is not None and now < known[1]:
            st = known[0]
            if st.start_ticks is not None and uptime - st.start_ticks / CLK_TCK >= YOUNG:
                reuse = st
        st = self._read_held(pid, reuse)
        if st is None:
            st = read_pid(pid, self.root, reuse)
        if st is None or st.start_ticks is None:
            self._whole.pop(pid, None)
        elif not st.reused:
            self._whole[pid] = (st, now + self.reread * (0.5 + (pid % 10) / 20))
        return st

    def _read_held(self, pid: int, reuse: PidStat | None) -> PidStat | None:
        """From the files kept open, holding them if there is room; None to read by path."""
        files = self._held.get(pid)
        if files is None:
            if len(self._held) >= self.hold:
                return None
            base = f"{self.root}/{pid}"
            files = self._held[pid] = (HeldFile(f"{base}/stat"), HeldFile(f"{base}/statm"))
        try:
            stat, statm = files[0].read(), files[1].read()
            last = self._text.get(pid)
            if reuse is not None and last is not None and last[0] == stat and last[1] == statm:
                return last[2]  # not its turn, the same text: the same PidStat, object and all
            st = from_files(pid, f"{self.root}/{pid}", stat, statm, reuse)
        except OSError:  # ESRCH: the process they were opened for has gone; its pid may be reused
            self.forget(pid)
            return None
        # Kept as a reused read: returned again, it must not renew the whole read's turn.
        self._text[pid] = (stat, statm, st if st.reused else replace(st, reused=True))
        return st

    def forget(self, pid: int) -> None:
        """The process has gone: its memory and its files."""
        self._whole.pop(pid, None)
        self._text.pop(pid, None)
        for f in self._held.pop(pid, ()):
            f.close()

    def held(self) -> int:
        return len(self._held)

    def close(self) -> None:
        """Every file given back; the Reader stays usable (it opens them again as it reads)."""
        for pid in list(self._held):
            self.forget(pid)
        self._whole.clear()
