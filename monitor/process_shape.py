"""One process's detail from one reading (``DetailRaw``, made by monitor/process_detail.py): pure, so
tests call ``shape`` on literal input (psutil's named tuples, or any object with those fields).

Every string read from the host is cleaned here (monitor/text.py); a command line is masked on
the raw argv, whole, before it is cleaned and cut (monitor/process_rows.py explains the order).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.masking import mask_argv
from monitor.process_model import (
    CONNECTIONS_SHOWN,
    OPEN_FILES_SHOWN,
    Cgroup,
    Connection,
    CpuTimes,
    Io,
    OpenFile,
    ProcessDetail,
    ProcessMemory,
    Ref,
)
from monitor.process_rows import DETAIL_CMDLINE_LIMIT, NAME_LIMIT, ProcessRow, bounded_argv
from monitor.text import clean, clean_or_none

PATH_LIMIT = 4096  # PATH_MAX: the longest path the kernel hands out for cwd, exe, an fd
STARTED_TOLERANCE = 0.05  # seconds; create_time is derived from clock ticks since boot
# The fields in the order pages list them (``denied``).
FIELDS = ("name", "ppid", "cmdline", "uids", "gids", "memory", "memory_full_info", "cpu_times",
          "io", "num_fds", "exe", "cwd", "username", "status", "num_threads", "nice", "ionice",
          "open_files", "connections", "cgroups", "oom_score", "oom_score_adj")


class _Denied:
    """The value of a field the console may not read (``as_dict``'s ``ad_value``)."""

    def __repr__(self) -> str:
        return "DENIED"


DENIED: Any = _Denied()


@dataclass(frozen=True)
class DetailRaw:
    """One process as read: field name (``FIELDS``) -> psutil's value, DENIED, or None (nothing
    to read: a zombie's memory, a skipped open-file scan). ``cgroups`` is the file's bytes."""
    pid: int
    create_time: float
    values: Mapping[str, Any]
    io_rates: tuple[float | None, float | None] = (None, None)  # bytes/s read, written
    now: float = field(default_factory=time.time)  # wall clock of the read: the process's age


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


# -- the detail --------------------------------------------------------------------------------

def shape(raw: DetailRaw, rows: Mapping[int, ProcessRow] | None = None,
          mask: bool = True) -> ProcessDetail:
    """The detail from one reading. ``rows`` (pid -> row of the sampler's latest table) gives
    cpu_percent, parent and children without a scan of every process per request."""
    rows = rows or {}
    v = {k: None if x is DENIED else x for k, x in raw.values.items()}
    pid, create_time = raw.pid, raw.create_time
    argv = v.get("cmdline")
    if argv is not None:  # masked whole and raw first, then cleaned and cut
        argv = bounded_argv(mask_argv(list(argv)) if mask else argv, DETAIL_CMDLINE_LIMIT)
    # Split first, clean each line: cleaning shows a newline as "\x0a".
    cgroups = parse_cgroup("\n".join(clean(line, PATH_LIMIT)
                                      for line in (v.get("cgroups") or b"").splitlines()))
    unit, slice_ = unit_of(systemd_path(cgroups))
    files, conns, ppid = v.get("open_files"), v.get("connections"), v.get("ppid")
    row = rows.get(pid)
    same_process = row is not None and abs(row.create_time - create_time) <= STARTED_TOLERANCE
    parent_row = rows.get(ppid) if ppid else None
    children = sorted((r for r in rows.values() if r.ppid == pid and r.create_time >= create_time - 1),
                      key=lambda r: r.pid)
    return ProcessDetail(
        pid=pid, ppid=ppid, name=clean(v.get("name") or str(pid), NAME_LIMIT), cmdline=argv,
        exe=clean_or_none(v.get("exe"), PATH_LIMIT), cwd=clean_or_none(v.get("cwd"), PATH_LIMIT),
        username=clean_or_none(v.get("username"), NAME_LIMIT),
        uids=_asdict(v.get("uids")), gids=_asdict(v.get("gids")), status=v.get("status"),
        create_time=create_time, age=max(0.0, raw.now - create_time),
        cpu_percent=row.cpu_percent if same_process else None,
        cpu_times=_cpu_times(v.get("cpu_times")),
        memory=_memory(v.get("memory"), v.get("memory_full_info")),
        io=_io(v.get("io"), raw.io_rates),
        num_threads=v.get("num_threads"), num_fds=v.get("num_fds"),
        open_files=[OpenFile(fd=f.fd, path=clean(f.path, PATH_LIMIT)) for f in files[:OPEN_FILES_SHOWN]]
        if files is not None else None,
        open_files_total=len(files) if files is not None else None,
        connections=[_connection(c) for c in conns[:CONNECTIONS_SHOWN]] if conns is not None else None,
        connections_total=len(conns) if conns is not None else None,
        nice=v.get("nice"), ionice=_asdict(v.get("ionice")),
        cgroups=cgroups, unit=unit, slice=slice_,
        oom_score=_int(v.get("oom_score")), oom_score_adj=_int(v.get("oom_score_adj")),
        parent=_ref(parent_row) if parent_row else None,
        children=[_ref(r) for r in children],
        denied=[f for f in FIELDS if raw.values.get(f) is DENIED],
    )


def _ref(r: ProcessRow) -> Ref:
    return Ref(pid=r.pid, name=r.name, create_time=r.create_time)


def _int(raw: bytes | None) -> int | None:
    return None if raw is None else int(raw)


def _asdict(nt: Any) -> dict[str, int] | None:
    return {k: int(v) for k, v in nt._asdict().items()} if nt is not None else None


def _cpu_times(cpu: Any) -> CpuTimes | None:
    if cpu is None:
        return None
    return CpuTimes(**{k: v for k, v in cpu._asdict().items() if k in CpuTimes.model_fields})


def _memory(mem: Any, full: Any) -> ProcessMemory | None:
    if mem is None:
        return None
    return ProcessMemory(rss=mem.rss, vms=mem.vms, shared=getattr(mem, "shared", None),
                         uss=getattr(full, "uss", None), pss=getattr(full, "pss", None),
                         swap=getattr(full, "swap", None))


def _io(io: Any, rates: tuple[float | None, float | None]) -> Io | None:
    if io is None:
        return None
    return Io(read_count=io.read_count, write_count=io.write_count,
              read_bytes=io.read_bytes, write_bytes=io.write_bytes,
              read_chars=getattr(io, "read_chars", None), write_chars=getattr(io, "write_chars", None),
              read_bytes_per_s=rates[0], write_bytes_per_s=rates[1])


def _addr(a: Any) -> str:
    if not a:
        return ""
    ip, port = a
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _connection(c: Any) -> Connection:
    # Addresses and states are psutil's own formatting of numbers: nothing a user can choose.
    return Connection(fd=c.fd, family=c.family.name, type=c.type.name,
                      laddr=_addr(c.laddr), raddr=_addr(c.raddr), status=c.status)
