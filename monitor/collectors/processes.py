"""Processes: the process table, read once per ``process_interval`` (default 2 s) for every viewer.

Sample (a quiet build machine; the card shows the top by CPU, /processes the full table):
    total=83 threads=212 counts={'sleeping': 79, 'running': 2, 'idle': 2}
      PID  USER   STATUS    CPU%  MEM%    RSS    THR  NI  COMMAND
     4121  root   running   38.0   1.9  152 MiB   12   0  python3 -m pytest tests/ -q
      912  app    sleeping   2.0   0.4   31 MiB    4   0  postgres: checkpointer
        2  root   idle        –    0.0    0 B      1   0  [kthreadd]

``psutil.Process`` objects are kept across ticks (our own table, not process_iter's global cache
that any other caller would reset), so ``cpu_percent`` measures the interval between two of our
own reads: a process seen for the first time has ``cpu_percent=None`` until its second tick.
Processes that vanish mid-scan are skipped; fields the console may not read are None.

Every host string is cleaned where it enters (monitor/text.py: valid UTF-8, controls and bidi
marks as visible escapes). A command line goes through three steps, in this order:
  1. masked (monitor/masking.py) on the raw argv, whole: masking must see every byte the program
     got, and a cut made before it could leave half a secret unmasked ("Bearer ab", a URL's
     password without its "@");
  2. cleaned: escapes only *add* backslash text in place of a control or an undecodable byte and
     never remove a mask, so cleaning cannot turn masked text back into a secret;
  3. bounded: at most ``CMDLINE_LIMIT`` characters of it are kept in the row (table, API, filter),
     the last kept argument ending in "…[truncated, N characters]". Cutting masked text cannot
     reveal anything: the secrets are already gone.
Masking and cleaning run once per process and command line (cached by the argv's hash), so a
2 MiB command line costs once, not every tick. Unless ``mask_secrets`` is off.

Only the summary (counts, top N) is part of the snapshot's JSON; the full ``rows`` list is
excluded from it and served, sorted and filtered, by /api/processes and /processes.
"""
from __future__ import annotations

import pwd
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal

import psutil
from pydantic import BaseModel, ConfigDict, Field

from monitor.masking import mask_argv
from monitor.text import TRUNCATED, clean, clean_cut

from .base import AreaModel

SortKey = Literal["cpu", "memory", "pid", "name", "user", "threads", "start"]
Order = Literal["asc", "desc"]
# The status filter's choices: psutil's words; "disk-sleep" is ps's D state (uninterruptible I/O).
StatusFilter = Literal["running", "sleeping", "disk-sleep", "zombie", "stopped", "idle"]

# sort key -> ProcessRow field
SORT_FIELDS: dict[str, str] = {
    "cpu": "cpu_percent", "memory": "rss", "pid": "pid", "name": "name", "user": "username",
    "threads": "num_threads", "start": "create_time",
}
# The natural first direction of each column: biggest/newest first for numbers, A-Z for words.
DEFAULT_ORDER: dict[str, str] = {
    "cpu": "desc", "memory": "desc", "threads": "desc", "start": "desc",
    "pid": "asc", "name": "asc", "user": "asc",
}
# What one tick reads per process: the collector and bench/bench_processes.py's raw floor use the
# same list. ``uids`` instead of ``username`` (we cache uid -> name) and ``memory_info`` instead
# of ``memory_percent`` (the same read; we divide once by the total).
ATTRS = ["ppid", "name", "uids", "status", "cpu_percent", "memory_info", "num_threads", "nice",
         "create_time", "cmdline"]
TOP_N = 8
COMMAND_LIMIT = 160  # characters of the shortened command line shown in the table
# Characters of the (masked, cleaned) command line kept per process in the table and the API:
# Linux allows 2 MiB of arguments, and every row is kept for every viewer. The detail page
# (monitor/process_detail.py) reads one process per request and keeps DETAIL_CMDLINE_LIMIT.
CMDLINE_LIMIT = 4096
DETAIL_CMDLINE_LIMIT = 65536
# A process name is comm (15 bytes), but psutil extends it from argv[0] when comm is full:
# it can be as long as an argument. User names come from NSS (LDAP, sssd): any text.
NAME_LIMIT = 256


class ProcessRow(BaseModel):
    """One process as the table shows it. Raw units; None where the field could not be read."""

    model_config = ConfigDict(frozen=True)

    pid: int
    ppid: int | None
    name: str
    username: str | None
    status: str | None = Field(description="psutil's status word: running, sleeping, disk-sleep, zombie, ...")
    cpu_percent: float | None = Field(
        description="percent of one CPU since the previous tick (can exceed 100 with threads); "
                    "None on a process's first tick")
    memory_percent: float | None = Field(description="RSS as percent of physical memory")
    rss: int | None = Field(description="resident set size, bytes")
    num_threads: int | None
    nice: int | None
    create_time: float = Field(description="start time, seconds since the epoch; with pid, the "
                                           "process's identity (PIDs are reused)")
    command: str = Field(description="shortened, masked command line for display")
    cmdline: list[str] = Field(description="full command line, credentials masked")


class Processes(AreaModel):
    total: int = Field(description="processes on the host")
    threads: int = Field(description="threads over all readable processes")
    counts: dict[str, int] = Field(description="processes per status word")
    top_cpu: list[ProcessRow] = Field(description=f"the {TOP_N} busiest processes by cpu_percent")
    top_memory: list[ProcessRow] = Field(description=f"the {TOP_N} largest processes by rss")
    # Every process: served sorted and filtered by /api/processes, kept out of /api/snapshot.
    rows: list[ProcessRow] = Field(default_factory=list, exclude=True)


# -- shaping (pure: unit tests call these on literal input) -------------------------------------

def printable(text: str | bytes | None) -> str:
    """Kept for callers of the old name: monitor.text.clean (controls shown as \\x1b, invalid
    UTF-8 as U+FFFD, bidi marks as \\u202e)."""
    return clean(text)


def bounded_argv(argv: Sequence[str], limit: int = CMDLINE_LIMIT) -> list[str]:
    """Cleaned arguments, at most ``limit`` characters in all (a space counted between two).

    Only what is kept is cleaned, so 10,000 arguments or one of 128 KiB cost what ``limit``
    characters cost. The last kept argument ends with how long the whole command line was.

    >>> bounded_argv(["sleep", "A" * 10], limit=9)
    ['sleep', 'AAA…[truncated, 16 characters]']
    """
    out: list[str] = []
    room = limit
    for arg in argv:
        text, cut = clean_cut(arg, max(room, 0))
        if cut:
            total = sum(map(len, argv)) + len(argv) - 1  # the joined length
            out.append(text + TRUNCATED.format(total))
            return out
        out.append(text)
        room -= len(text) + 1
    return out


def short_cmdline(argv: Sequence[str], name: str, limit: int = COMMAND_LIMIT) -> str:
    """The table's command column, like ps: the program's base name and its arguments.

    >>> short_cmdline(["/usr/bin/python3", "-m", "http.server"], "python3")
    'python3 -m http.server'
    >>> short_cmdline([], "kworker/0:1")
    '[kworker/0:1]'
    """
    if not argv or not any(argv):
        return f"[{clean(name)}]"  # kernel threads and zombies have no command line
    head = argv[0]
    if head.startswith("/") and " " not in head:
        head = head.rsplit("/", 1)[-1] or head
    # Joined from at most ``limit`` characters: argv may be 10,000 arguments long.
    parts, size = [], 0
    for a in (head, *argv[1:]):
        parts.append(a)
        size += len(a) + 1
        if size > limit:
            break
    joined = " ".join(parts).strip()
    text, cut = clean_cut(joined, limit)
    if cut:
        text = clean_cut(joined, limit - 1)[0].rstrip() + "…"
    return text


def status_counts(rows: Iterable[ProcessRow]) -> dict[str, int]:
    """Processes per status word, most common first."""
    return dict(Counter(r.status or "unknown" for r in rows).most_common())


def sort_rows(rows: Iterable[ProcessRow], key: str, order: str) -> list[ProcessRow]:
    """Rows sorted by a column; unreadable (None) values always go last; ties by pid."""
    field = SORT_FIELDS[key]
    known, unknown = [], []
    for r in rows:
        (unknown if getattr(r, field) is None else known).append(r)
    if field in ("name", "username"):
        known.sort(key=lambda r: (getattr(r, field).casefold(), r.pid), reverse=order == "desc")
    else:
        known.sort(key=lambda r: (getattr(r, field), r.pid), reverse=order == "desc")
    unknown.sort(key=lambda r: r.pid)
    return known + unknown


def matches(row: ProcessRow, words: Sequence[str]) -> bool:
    """Every word (casefolded) occurs in the name, user or (masked) command line."""
    hay = f"{row.pid} {row.name} {row.username or ''} {' '.join(row.cmdline)}".casefold()
    return all(w in hay for w in words)


def filter_rows(rows: Iterable[ProcessRow], q: str | None = None,
                status: str | None = None) -> list[ProcessRow]:
    words = q.casefold().split() if q else []
    return [r for r in rows
            if (status is None or r.status == status) and (not words or matches(r, words))]


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
        self.mask_secrets = mask_secrets
        self.top_n = top_n
        self._procs: dict[int, psutil.Process] = {}  # kept across ticks: cpu_percent's baseline
        self._argv: dict[int, tuple[tuple[int, int], list[str], str]] = {}  # pid -> (argv key, masked, short)
        self._users: dict[int, str] = {}
        self._total_mem = psutil.virtual_memory().total

    @classmethod
    def from_settings(cls, settings=None) -> ProcessesCollector:
        """Built with ``process_interval`` and ``mask_secrets`` (monitor.settings.Settings)."""
        if settings is None:
            from monitor.settings import get_settings
            settings = get_settings()
        return cls(interval=settings.process_interval, mask_secrets=settings.mask_secrets)

    def _command(self, pid: int, argv: list[str] | None, name: str) -> tuple[list[str], str]:
        """Masked, cleaned, bounded argv and its short form (see the module docstring for the
        order), recomputed only when the raw argv changed. The cache keeps the argv's hash, not
        the argv: a 2 MiB command line is not held twice per process."""
        raw = tuple(argv or ())
        key = (len(raw), hash(raw))
        cached = self._argv.get(pid)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        masked = bounded_argv(mask_argv(list(raw)) if self.mask_secrets else raw)
        short = short_cmdline(masked, name)
        self._argv[pid] = (key, masked, short)
        return masked, short

    def collect(self, now: float) -> Processes:
        pids = psutil.pids()
        alive = set(pids)
        for gone in self._procs.keys() - alive:
            del self._procs[gone]
            self._argv.pop(gone, None)
        rows: list[ProcessRow] = []
        for pid in pids:
            proc = self._procs.get(pid)
            try:
                # A PID reused since the last tick: our old Process object would answer with the
                # old process's cached start time and a cpu_percent against the wrong baseline.
                # is_running() compares the creation time afresh.
                if proc is not None and not proc.is_running():
                    proc = None
                    self._argv.pop(pid, None)
                first = proc is None
                if proc is None:
                    proc = self._procs[pid] = psutil.Process(pid)
                info = proc.as_dict(ATTRS, ad_value=None)  # AccessDenied fields become None
            except psutil.NoSuchProcess:  # exited between pids() and here (ZombieProcess is one)
                self._procs.pop(pid, None)
                self._argv.pop(pid, None)
                continue
            rows.append(self._row(pid, info, first))
        return summarize(rows, self.top_n)

    def _row(self, pid: int, info: dict, first: bool) -> ProcessRow:
        name = clean(info["name"], NAME_LIMIT) if info["name"] else str(pid)
        mem = info["memory_info"]
        uids = info["uids"]
        cmdline, command = self._command(pid, info["cmdline"], name)
        return ProcessRow(
            pid=pid,
            ppid=info["ppid"],
            name=name,
            username=_user_name(uids.real, self._users) if uids else None,
            status=info["status"],
            # the first cpu_percent() of a Process object is a meaningless 0.0: say "unknown"
            cpu_percent=None if first or info["cpu_percent"] is None else round(info["cpu_percent"], 1),
            memory_percent=round(mem.rss / self._total_mem * 100, 2) if mem else None,
            rss=mem.rss if mem else None,
            num_threads=info["num_threads"],
            nice=info["nice"],
            create_time=info["create_time"] or 0.0,
            command=command,
            cmdline=cmdline,
        )

    def series(self, data: Processes) -> dict[str, float]:
        return {
            "processes.total": data.total,
            "processes.running": data.counts.get("running", 0),
            "processes.blocked": data.counts.get("disk-sleep", 0),
        }

