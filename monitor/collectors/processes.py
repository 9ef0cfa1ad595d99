"""Processes: the process table, read once per ``process_interval`` (default 2 s) for every viewer,
and every ``UNWATCHED_INTERVAL`` (5 s) while nobody looks (monitor/sampler.py WATCH_WINDOW).

Sample (a quiet build machine; the card shows the top by CPU, /processes the full table):
    total=83 threads=212 counts={'sleeping': 79, 'running': 2, 'idle': 2}
      PID  USER   STATUS    CPU%  MEM%    RSS    THR  NI  COMMAND
     4121  root   running   38.0   1.9  152 MiB   12   0  python3 -m pytest tests/ -q
      912  app    sleeping   2.0   0.4   31 MiB    4   0  postgres: checkpointer
        2  root   idle        –    0.0    0 B      1   0  [kthreadd]

Each process's CPU ticks are kept across reads (by pid and start time, so a reused PID is a new
process), so ``cpu_percent`` measures the interval between two of our own reads: a process seen
for the first time has ``cpu_percent=None`` until its second tick. Processes that vanish
mid-scan are skipped; fields the console may not read are None.

``read()`` does the I/O (monitor/proc_reader.py's Reader over monitor/proc_stat.py: stat and
statm per process every read, from files kept open, status and cmdline when it is new, changed
its comm, or its turn came; psutil's meanings at a fraction of ``process_iter``'s cost; uid ->
user name through a cache) and returns ``ProcRaw`` records; the pure ``shape(raw)`` makes the
rows and the summary. A process that has not run since the last read (the same stat and statm
text) keeps its ProcRaw and its row, the same objects: only what changed is parsed and shaped.

Every host string is cleaned where it enters (monitor/text.py: valid UTF-8, controls and bidi
marks as visible escapes). A command line is masked whole, then cleaned, then bounded (the order
and why: monitor/process_rows.py), once per process and command line (``CommandCache``, by the
argv's hash), so a 2 MiB command line costs once, not every tick. Unless ``mask_secrets`` is off.

Only the summary (counts, top N) is part of the snapshot's JSON; the full ``rows`` list is
excluded from it and served, sorted and filtered, by /api/processes and /processes.

History series (``series()``): ``processes.total``, ``processes.running`` and
``processes.disk_sleep`` (processes in uninterruptible sleep, ps's D state: usually waiting on a
disk or a hung network filesystem).
"""
from __future__ import annotations

import pwd
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil
from pydantic import Field

from monitor.process_rows import (  # noqa: F401 - the names callers import from here
    CMDLINE_LIMIT,
    COMMAND_LIMIT,
    DEFAULT_ORDER,
    DETAIL_CMDLINE_LIMIT,
    NAME_LIMIT,
    SORT_FIELDS,
    CommandCache,
    Order,
    ProcessRow,
    SortKey,
    StatusFilter,
    bounded_argv,
    filter_rows,
    matches,
    printable,
    short_cmdline,
    sort_rows,
    status_counts,
)
from monitor import proc_reader, proc_stat
from monitor.text import clean

from .base import AreaModel

# The fields of a row, as psutil names them: bench/bench_processes.py's floor reads these with
# ``process_iter`` (``uids`` for ``username``, ``memory_info`` for ``memory_percent``), the
# collector reads the same values from /proc itself (monitor/proc_stat.py).
ATTRS = ["ppid", "name", "uids", "status", "cpu_percent", "memory_info", "num_threads", "nice",
         "create_time", "cmdline"]
TOP_N = 8
UNWATCHED_INTERVAL = 5.0  # s between reads while no view looks (never faster than interval)


class Processes(AreaModel):
    total: int = Field(description="processes on the host")
    threads: int = Field(description="threads over all readable processes")
    counts: dict[str, int] = Field(description="processes per status word")
    top_cpu: list[ProcessRow] = Field(description=f"the {TOP_N} busiest processes by cpu_percent")
    top_memory: list[ProcessRow] = Field(description=f"the {TOP_N} largest processes by rss")
    # Every process: served sorted and filtered by /api/processes, kept out of /api/snapshot.
    rows: list[ProcessRow] = Field(default_factory=list, exclude=True)


@dataclass(frozen=True)
class ProcRaw:
    """One process as read: the ATTRS values (None where not readable), the user name
    already looked up, and whether this is the first read of this process (no cpu_percent yet)."""
    pid: int
    name: str | None
    username: str | None
    cmdline: Sequence[str] | None
    ppid: int | None = None
    status: str | None = None
    cpu_percent: float | None = None
    rss: int | None = None
    num_threads: int | None = None
    nice: int | None = None
    create_time: float | None = None
    first: bool = False


@dataclass(frozen=True)
class ProcessesRaw:
    procs: Sequence[ProcRaw]
    total_memory: int  # bytes of physical memory: memory_percent's denominator


# -- shaping (pure: unit tests call these on literal input) -------------------------------------

def shape_row(p: ProcRaw, total_memory: int, commands: CommandCache) -> ProcessRow:
    name = clean(p.name, NAME_LIMIT) if p.name else str(p.pid)
    cmdline, command = commands.shaped(p.pid, p.cmdline, name)
    return ProcessRow(
        pid=p.pid,
        ppid=p.ppid,
        name=name,
        username=p.username,
        status=p.status,
        # the first cpu_percent() of a Process object is a meaningless 0.0: say "unknown"
        cpu_percent=None if p.first or p.cpu_percent is None else round(p.cpu_percent, 1),
        memory_percent=round(p.rss / total_memory * 100, 2) if p.rss is not None and total_memory else None,
        rss=p.rss,
        num_threads=p.num_threads,
        nice=p.nice,
        create_time=p.create_time or 0.0,
        command=command,
        cmdline=cmdline,
    )


def summarize(rows: list[ProcessRow], top_n: int = TOP_N) -> Processes:
    by_cpu = [r for r in sort_rows(rows, "cpu", "desc") if r.cpu_percent is not None][:top_n]
    by_mem = [r for r in sort_rows(rows, "memory", "desc") if r.rss is not None][:top_n]
    return Processes(
        total=len(rows),
        threads=sum(r.num_threads or 0 for r in rows),
        counts=status_counts(rows),
        top_cpu=by_cpu,
        top_memory=by_mem,
        rows=rows,
    )


def shape(raw: ProcessesRaw, prev: ProcessesRaw | None = None, dt: float = 0.0, *,
          top_n: int = TOP_N, commands: CommandCache | None = None,
          rows: dict[int, tuple[ProcRaw, ProcessRow]] | None = None) -> Processes:
    """The table and its summary. ``cpu_percent`` is already measured between two reads of the
    same process (the collector's), so ``prev`` and ``dt`` are not needed. ``commands`` caches the
    masked command lines across ticks (a fresh cache, masking on, when not given). ``rows`` (the
    collector's: pid -> last ProcRaw and its row) gives the very same ProcRaw object, a process
    unchanged since, its row again; it is left holding this table's processes."""
    commands = commands if commands is not None else CommandCache()
    kept, made = rows if rows is not None else {}, {}
    for p in raw.procs:
        last = kept.get(p.pid)
        made[p.pid] = last if last is not None and last[0] is p else (
            p, shape_row(p, raw.total_memory, commands))
    if rows is not None:
        rows.clear()
        rows.update(made)
    return summarize([row for _, row in made.values()], top_n)


# -- reading ------------------------------------------------------------------------------------

def _user_name(uid: int, cache: dict[int, str]) -> str:
    name = cache.get(uid)
    if name is None:
        try:
            name = clean(pwd.getpwuid(uid).pw_name, NAME_LIMIT)
        except KeyError:  # a uid with no passwd entry (containers): show the number, like ps
            name = str(uid)
        cache[uid] = name
    return name


class ProcessesCollector:
    name = "processes"
    model = Processes
    interval = 2.0
    custom_api = True  # views/processes.py serves /api/processes with sort/filter parameters

    def __init__(self, interval: float = 2.0, mask_secrets: bool = True, top_n: int = TOP_N) -> None:
        self.interval = interval
        # Nobody looking: the table feeds the zombies check (held 60 s), the culprits named with
        # a verdict and each minute's top processes in history, which a 5 s read serves as
        # well; it is the costliest area.
        self.unwatched_interval = max(interval, UNWATCHED_INTERVAL)
        self.mask_secrets = mask_secrets
        self.top_n = top_n
        # pid -> (start ticks, cpu ticks, monotonic time) of its last read: cpu_percent's baseline
        self._seen: dict[int, tuple[int | None, int | None, float]] = {}
        self._commands = CommandCache(mask=mask_secrets)
        # pid -> its last PidStat, the boot time it was read with, and the ProcRaw made of it
        self._raws: dict[int, tuple[proc_stat.PidStat, float, ProcRaw]] = {}
        self._rows: dict[int, tuple[ProcRaw, ProcessRow]] = {}  # shape()'s, across reads
        self._users: dict[int, str] = {}
        self._reader = proc_reader.Reader()
        self._total_mem = psutil.virtual_memory().total

    @classmethod
    def from_settings(cls, settings=None) -> ProcessesCollector:
        """Built with ``process_interval`` and ``mask_secrets`` (monitor.settings.Settings)."""
        if settings is None:
            from monitor.settings import get_settings
            settings = get_settings()
        return cls(interval=settings.process_interval, mask_secrets=settings.mask_secrets)

    def _command(self, pid: int, argv: list[str] | None, name: str) -> tuple[list[str], str]:
        """Masked, cleaned, bounded argv and its short form (monitor/process_rows.py)."""
        return self._commands.shaped(pid, argv, name)

    def read(self) -> ProcessesRaw:
        """One pass over /proc (monitor/proc_stat.py: two to four files per process)."""
        alive = proc_stat.pids()
        for gone in self._seen.keys() - set(alive):
            del self._seen[gone]
            self._raws.pop(gone, None)
            self._commands.forget(gone)
            self._reader.forget(gone)
        booted = proc_stat.boot_time()
        uptime = time.clock_gettime(time.CLOCK_BOOTTIME)
        procs: list[ProcRaw] = []
        for pid in alive:
            at = time.monotonic()
            st = self._reader.read(pid, at, uptime)
            if st is None:  # exited between the listing and here
                self._seen.pop(pid, None)
                self._raws.pop(pid, None)
                self._commands.forget(pid)
                continue
            procs.append(self._raw(st, booted, at))
        return ProcessesRaw(procs, self._total_mem)

    def _raw(self, st: proc_stat.PidStat, booted: float, at: float) -> ProcRaw:
        """The row's raw values; ``cpu_percent`` against this process's previous read. A PID
        whose start time changed since then was reused: a new process, measured from now."""
        prev = self._seen.get(st.pid)
        if prev is not None and prev[0] != st.start_ticks:
            prev = None
            self._commands.forget(st.pid)
        cpu = None
        if prev is not None and st.cpu_ticks is not None and prev[1] is not None and at > prev[2]:
            cpu = (st.cpu_ticks - prev[1]) / proc_stat.CLK_TCK / (at - prev[2]) * 100
        self._seen[st.pid] = (st.start_ticks, st.cpu_ticks, at)
        last = self._raws.get(st.pid)
        if (last is not None and last[0] is st and last[1] == booted and cpu == 0.0
                and last[2].cpu_percent == 0.0 and not last[2].first):
            return last[2]  # the same read, idle then and now: the same ProcRaw, so the same row
        raw = ProcRaw(
            pid=st.pid, name=st.name, cmdline=st.cmdline,
            username=_user_name(st.uid, self._users) if st.uid is not None else None,
            ppid=st.ppid, status=st.status, cpu_percent=cpu, rss=st.rss,
            num_threads=st.num_threads, nice=st.nice,
            create_time=(booted + st.start_ticks / proc_stat.CLK_TCK
                         if st.start_ticks is not None else None),
            first=prev is None)
        self._raws[st.pid] = (st, booted, raw)
        return raw

    def close(self) -> None:
        """The files kept open between reads (the Sampler's close; reading opens them again)."""
        self._reader.close()

    def collect(self, now: float) -> Processes:
        return shape(self.read(), top_n=self.top_n, commands=self._commands, rows=self._rows)

    def series(self, data: Processes) -> dict[str, float]:
        return {
            "processes.total": data.total,
            "processes.running": data.counts.get("running", 0),
            "processes.disk_sleep": data.counts.get("disk-sleep", 0),
        }
