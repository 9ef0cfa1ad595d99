"""One process in detail, read per request (it is per-request by nature: whoever opened it).

    read_detail(4121) ->
    pid=4121 ppid=1 name=sshd user=root status=sleeping age=3 d 2 h unit=sshd.service
    memory rss=7.4 MiB uss=2.1 MiB  io read 1.2 MiB write 0 B  fds=5  threads=1
    connections 0.0.0.0:22 LISTEN  cgroup 0::/system.slice/sshd.service  oom_score=0
    denied=[]                       # as another user: ['cwd', 'io', 'open_files', ...]

Everything is read inside ``Process.oneshot()`` (one pass over /proc/PID/stat, status, ...).
A field the console may not read (AccessDenied: another user's cwd, fds, I/O) is None and named in
``denied`` so pages can say "access denied" instead of failing. The environment is never read: it
carries secrets. Command lines are masked (monitor/masking.py) unless ``mask=False``, on the raw
argv and before they are cleaned and cut to ``DETAIL_CMDLINE_LIMIT`` characters (the order is
explained in monitor/collectors/processes.py).

Every string read from the host (name, exe, cwd, user name, command line, open-file paths,
cgroup paths and so unit names) is cleaned where it is read (monitor/text.py): a path with
``\xff`` or a name with an escape sequence is shown, escaped, never a 500.

PIDs are reused: a caller that knows the process's start time passes ``started`` and gets
``PidReused`` (not another process's detail) when the PID now belongs to someone else.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import psutil
from pydantic import BaseModel, Field

from monitor.collectors.processes import DETAIL_CMDLINE_LIMIT, NAME_LIMIT, ProcessRow, bounded_argv
from monitor.masking import mask_argv
from monitor.text import clean, clean_or_none

T = TypeVar("T")
PROC = Path("/proc")
OPEN_FILES_SHOWN = 20
CONNECTIONS_SHOWN = 50
# Listing open files reads /proc/PID/fdinfo per file: skip it for processes with very many fds.
OPEN_FILES_MAX_SCAN = 2000
PATH_LIMIT = 4096  # PATH_MAX: the longest path the kernel hands out for cwd, exe, an fd
CGROUP_LIMIT = 65536  # /proc/PID/cgroup read at most this far (one line per v1 hierarchy)
STARTED_TOLERANCE = 0.05  # seconds; create_time is derived from clock ticks since boot


class ProcessNotFound(LookupError):
    """No such process (never existed, exited, or the PID now belongs to another process)."""


class PidReused(ProcessNotFound):
    def __init__(self, pid: int, started: float, now_started: float, name: str) -> None:
        self.pid, self.started, self.now_started, self.name = pid, started, now_started, name
        super().__init__(
            f"process {pid} that started at {started:.2f} has exited; PID {pid} now belongs to "
            f"another process ({name}, started at {now_started:.2f})")


class Ref(BaseModel):
    """A link to another process: pid plus start time (its identity)."""
    pid: int
    name: str
    create_time: float


class CpuTimes(BaseModel):
    user: float
    system: float
    children_user: float
    children_system: float
    iowait: float | None = None


class Memory(BaseModel):
    rss: int
    vms: int
    shared: int | None = None
    uss: int | None = Field(None, description="unique set size: freed if the process exits")
    pss: int | None = None
    swap: int | None = None


class Io(BaseModel):
    read_count: int
    write_count: int
    read_bytes: int
    write_bytes: int
    read_chars: int | None = None
    write_chars: int | None = None
    read_bytes_per_s: float | None = Field(None, description="since this process's previous detail read")
    write_bytes_per_s: float | None = None


class OpenFile(BaseModel):
    fd: int
    path: str


class Connection(BaseModel):
    fd: int
    family: str  # AF_INET, AF_INET6
    type: str  # SOCK_STREAM, SOCK_DGRAM
    laddr: str
    raddr: str
    status: str


class Cgroup(BaseModel):
    hierarchy: str  # "0" for cgroup v2
    controllers: str  # "" for v2, "cpu,cpuacct" or "name=systemd" for v1
    path: str


class ProcessDetail(BaseModel):
    pid: int
    ppid: int | None
    name: str
    exe: str | None
    cmdline: list[str] | None = Field(description="full command line, credentials masked")
    cwd: str | None
    username: str | None
    uids: dict[str, int] | None = Field(description="real, effective, saved")
    gids: dict[str, int] | None
    status: str | None
    create_time: float
    age: float = Field(description="seconds since the process started")
    cpu_percent: float | None = Field(description="from the sampler's latest process table")
    cpu_times: CpuTimes | None
    memory: Memory | None
    io: Io | None
    num_threads: int | None
    num_fds: int | None
    open_files: list[OpenFile] | None = Field(description=f"the first {OPEN_FILES_SHOWN}")
    open_files_total: int | None
    connections: list[Connection] | None = Field(description=f"the first {CONNECTIONS_SHOWN} inet sockets")
    connections_total: int | None
    nice: int | None
    ionice: dict[str, int] | None = Field(
        description="ioclass (0 none, 1 realtime, 2 best-effort, 3 idle) and value")
    cgroups: list[Cgroup]
    unit: str | None = Field(description="the systemd unit (service or scope) the process belongs to")
    slice: str | None
    oom_score: int | None
    oom_score_adj: int | None
    parent: Ref | None
    children: list[Ref] = Field(description="from the sampler's latest process table")
    denied: list[str] = Field(description="fields the console is not allowed to read")


# -- /proc/PID/cgroup (pure: tested on literal input) ------------------------------------------

def parse_cgroup(text: str) -> list[Cgroup]:
    """Lines "hierarchy:controllers:path" of /proc/PID/cgroup.

    >>> parse_cgroup("0::/system.slice/sshd.service\\n")
    [Cgroup(hierarchy='0', controllers='', path='/system.slice/sshd.service')]
    """
    out = []
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) == 3:
            out.append(Cgroup(hierarchy=parts[0], controllers=parts[1], path=parts[2]))
    return out


def systemd_path(cgroups: list[Cgroup]) -> str | None:
    """The path systemd manages: the unified (v2) line, else v1's name=systemd line."""
    for c in cgroups:
        if c.hierarchy == "0" and c.controllers == "":
            return c.path
    for c in cgroups:
        if "name=systemd" in c.controllers.split(","):
            return c.path
    return None


def unit_of(path: str | None) -> tuple[str | None, str | None]:
    """(unit, slice) from a systemd cgroup path; the deepest service or scope wins, so a user
    service under user@1000.service reports itself.

    >>> unit_of("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service")
    ('foo.service', 'app.slice')
    >>> unit_of("/")
    (None, None)
    """
    unit = slice_ = None
    for part in (path or "").split("/"):
        if part.endswith((".service", ".scope", ".socket", ".mount", ".swap")):
            unit = part
        elif part.endswith(".slice"):
            slice_ = part
    return unit, slice_


# -- I/O rates between two detail reads of the same process -------------------------------------

class _IoBaselines:
    """Last I/O reading per (pid, create_time): the detail refreshes every couple of seconds, so
    the rate is measured between two of its reads. Bounded; shared by request threads."""

    def __init__(self, size: int = 256, min_interval: float = 1.0) -> None:
        self._data: OrderedDict[tuple[int, float], tuple[float, int, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.size, self.min_interval = size, min_interval

    def rates(self, key: tuple[int, float], now: float, read: int,
              write: int) -> tuple[float | None, float | None]:
        with self._lock:
            prev = self._data.get(key)
            if prev is None or now - prev[0] >= self.min_interval:
                self._data[key] = (now, read, write)
                self._data.move_to_end(key)
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
        if prev is None or now - prev[0] <= 0:
            return None, None
        dt = now - prev[0]
        return max(0, read - prev[1]) / dt, max(0, write - prev[2]) / dt


IO_BASELINES = _IoBaselines()


# -- reading ------------------------------------------------------------------------------------

def _read_proc_file(pid: int, name: str, limit: int = 4096) -> bytes:
    """A /proc file's first ``limit`` bytes, as bytes: a cgroup path may be any bytes."""
    with open(PROC / str(pid) / name, "rb") as f:
        return f.read(limit)


def read_detail(pid: int, started: float | None = None,
                rows: Mapping[int, ProcessRow] | None = None, mask: bool = True) -> ProcessDetail:
    """The detail of process ``pid``. ``rows`` (pid -> row of the sampler's latest table) gives
    cpu_percent, parent and children without a scan of every process per request."""
    rows = rows or {}
    try:
        proc = psutil.Process(pid)
        create_time = proc.create_time()
    except psutil.NoSuchProcess:
        raise ProcessNotFound(f"no process with PID {pid} (it has exited or never existed)") from None
    except psutil.AccessDenied:
        raise ProcessNotFound(f"process {pid} cannot be read") from None
    if started is not None and abs(create_time - started) > STARTED_TOLERANCE:
        raise PidReused(pid, started, create_time, _safe_name(proc))

    denied: list[str] = []

    def get(field: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except psutil.AccessDenied:
            denied.append(field)
        except psutil.ZombieProcess:
            pass  # a zombie has no memory, fds or cwd left: nothing to read, nothing denied
        except psutil.NoSuchProcess:
            raise ProcessNotFound(f"process {pid} exited while it was being read") from None
        except (PermissionError, OSError) as exc:
            if isinstance(exc, PermissionError):
                denied.append(field)
            elif isinstance(exc, (FileNotFoundError, ProcessLookupError)):
                raise ProcessNotFound(f"process {pid} exited while it was being read") from None
        return None

    with proc.oneshot():
        name = get("name", proc.name) or str(pid)
        ppid = get("ppid", proc.ppid)
        argv = get("cmdline", proc.cmdline)
        uids = get("uids", proc.uids)
        gids = get("gids", proc.gids)
        mem = get("memory", proc.memory_info)
        full = get("memory_full_info", proc.memory_full_info) if mem is not None else None
        cpu = get("cpu_times", proc.cpu_times)
        io = get("io", proc.io_counters)
        num_fds = get("num_fds", proc.num_fds)
        detail: dict[str, Any] = dict(
            exe=clean_or_none(get("exe", proc.exe), PATH_LIMIT),
            cwd=clean_or_none(get("cwd", proc.cwd), PATH_LIMIT),
            username=clean_or_none(get("username", proc.username), NAME_LIMIT),
            status=get("status", proc.status),
            num_threads=get("num_threads", proc.num_threads),
            nice=get("nice", proc.nice),
            ionice=_asdict(get("ionice", proc.ionice)),
        )
    if argv is not None:  # masked whole and raw first, then cleaned and cut
        argv = bounded_argv(mask_argv(argv) if mask else argv, DETAIL_CMDLINE_LIMIT)

    files = None
    if num_fds is not None and num_fds <= OPEN_FILES_MAX_SCAN:
        files = get("open_files", proc.open_files)
    conns = get("connections", lambda: proc.net_connections(kind="inet"))
    cg_raw = get("cgroups", lambda: _read_proc_file(pid, "cgroup", CGROUP_LIMIT)) or b""
    # Split first, clean each line: cleaning shows a newline as "\x0a".
    cgroups = parse_cgroup("\n".join(clean(line, PATH_LIMIT) for line in cg_raw.splitlines()))
    unit, slice_ = unit_of(systemd_path(cgroups))
    oom = get("oom_score", lambda: int(_read_proc_file(pid, "oom_score")))
    oom_adj = get("oom_score_adj", lambda: int(_read_proc_file(pid, "oom_score_adj")))

    io_model = None
    if io is not None:
        rb, wb = IO_BASELINES.rates((pid, create_time), time.monotonic(), io.read_bytes, io.write_bytes)
        io_model = Io(read_count=io.read_count, write_count=io.write_count,
                      read_bytes=io.read_bytes, write_bytes=io.write_bytes,
                      read_chars=getattr(io, "read_chars", None),
                      write_chars=getattr(io, "write_chars", None),
                      read_bytes_per_s=rb, write_bytes_per_s=wb)

    row = rows.get(pid)
    same_process = row is not None and abs(row.create_time - create_time) <= STARTED_TOLERANCE
    parent_row = rows.get(ppid) if ppid else None
    children = sorted((r for r in rows.values() if r.ppid == pid and r.create_time >= create_time - 1),
                      key=lambda r: r.pid)
    return ProcessDetail(
        pid=pid, ppid=ppid, name=clean(name, NAME_LIMIT), cmdline=argv,
        uids=_asdict(uids), gids=_asdict(gids),
        create_time=create_time, age=max(0.0, time.time() - create_time),
        cpu_percent=row.cpu_percent if same_process else None,
        cpu_times=CpuTimes(**{k: v for k, v in cpu._asdict().items() if k in CpuTimes.model_fields})
        if cpu else None,
        memory=_memory(mem, full),
        io=io_model,
        num_fds=num_fds,
        open_files=[OpenFile(fd=f.fd, path=clean(f.path, PATH_LIMIT)) for f in files[:OPEN_FILES_SHOWN]]
        if files is not None else None,
        open_files_total=len(files) if files is not None else None,
        connections=[_connection(c) for c in conns[:CONNECTIONS_SHOWN]] if conns is not None else None,
        connections_total=len(conns) if conns is not None else None,
        cgroups=cgroups, unit=unit, slice=slice_,
        oom_score=oom, oom_score_adj=oom_adj,
        parent=Ref(pid=parent_row.pid, name=parent_row.name, create_time=parent_row.create_time)
        if parent_row else None,
        children=[Ref(pid=r.pid, name=r.name, create_time=r.create_time) for r in children],
        denied=denied,
        **detail,
    )


def _safe_name(proc: psutil.Process) -> str:
    try:
        return clean(proc.name(), NAME_LIMIT)
    except psutil.Error:
        return "unknown"


def _asdict(nt: Any) -> dict[str, int] | None:
    return {k: int(v) for k, v in nt._asdict().items()} if nt is not None else None


def _memory(mem: Any, full: Any) -> Memory | None:
    if mem is None:
        return None
    return Memory(rss=mem.rss, vms=mem.vms, shared=getattr(mem, "shared", None),
                  uss=getattr(full, "uss", None), pss=getattr(full, "pss", None),
                  swap=getattr(full, "swap", None))


def _addr(a: Any) -> str:
    if not a:
        return ""
    ip, port = a
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _connection(c: Any) -> Connection:
    # Addresses and states are psutil's own formatting of numbers: nothing a user can choose.
    return Connection(fd=c.fd, family=c.family.name, type=c.type.name,
                      laddr=_addr(c.laddr), raddr=_addr(c.raddr), status=c.status)
