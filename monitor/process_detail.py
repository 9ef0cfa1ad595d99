"""One process in detail, read per request (it is per-request by nature: whoever opened it).

    read_detail(4121) ->
    pid=4121 ppid=1 name=sshd user=root status=sleeping age=3 d 2 h unit=sshd.service
    memory rss=7.4 MiB uss=2.1 MiB  io read 1.2 MiB write 0 B  fds=5  threads=1
    connections 0.0.0.0:22 LISTEN  cgroup 0::/system.slice/sshd.service  oom_score=0
    denied=[]                       # as another user: ['cwd', 'io', 'open_files', ...]

``read()`` does the I/O: ``as_dict(attrs, ad_value=DENIED)`` inside ``Process.oneshot()`` (one
pass over /proc/PID/stat, status, ...) plus three /proc files; the pure ``shape()`` makes the
``ProcessDetail`` (monitor/process_model.py) from that reading and the sampler's rows. A field the
console may not read (AccessDenied: another user's cwd, fds, I/O) is None and named in ``denied``
so pages can say "access denied" instead of failing; a zombie's missing fields are just None.
The environment is never read: it carries secrets. Command lines are masked (monitor/masking.py)
unless ``mask=False``, on the raw argv and before they are cleaned and cut to
``DETAIL_CMDLINE_LIMIT`` characters (the order is explained in monitor/process_rows.py).

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from monitor import proc_stat
from monitor.process_model import ProcessDetail  # noqa: F401 - callers import the models from here
from monitor.process_rows import NAME_LIMIT, ProcessRow
from monitor.process_shape import (  # noqa: F401 - and the pure parts
    DENIED,
    STARTED_TOLERANCE,
    DetailRaw,
    parse_cgroup,
    shape,
    systemd_path,
    unit_of,
)
from monitor.text import clean

PROC = Path("/proc")
# Listing open files reads /proc/PID/fdinfo per file: skip it for processes with very many fds.
OPEN_FILES_MAX_SCAN = 2000
CGROUP_LIMIT = 65536  # /proc/PID/cgroup read at most this far (one line per v1 hierarchy)

# psutil attribute -> the field's name (in ``denied``; process_shape.FIELDS orders them). The
# first group is read for every process; memory_full_info only when memory_info answered, open_files
# only for a process with at most OPEN_FILES_MAX_SCAN fds.
BASIC = {"name": "name", "ppid": "ppid", "cmdline": "cmdline", "uids": "uids", "gids": "gids",
         "memory_info": "memory", "cpu_times": "cpu_times", "io_counters": "io",
         "num_fds": "num_fds", "exe": "exe", "cwd": "cwd", "username": "username",
         "status": "status", "num_threads": "num_threads", "nice": "nice", "ionice": "ionice"}
EXTRA = {"memory_full_info": "memory_full_info", "open_files": "open_files",
         "net_connections": "connections"}
PROC_FILES = {"cgroups": ("cgroup", CGROUP_LIMIT), "oom_score": ("oom_score", 4096),
              "oom_score_adj": ("oom_score_adj", 4096)}


class ProcessNotFound(LookupError):
    """No such process (never existed, exited, or the PID now belongs to another process)."""


class PidReused(ProcessNotFound):
    def __init__(self, pid: int, started: float, now_started: float, name: str) -> None:
        self.pid, self.started, self.now_started, self.name = pid, started, now_started, name
        super().__init__(
            f"process {pid} that started at {local_time(started)} has exited; PID {pid} now "
            f"belongs to another process ({name}, started at {local_time(now_started)})")


def local_time(epoch: float) -> str:
    r"""A moment as an operator reads it, with the zone (never a raw epoch in a message).

    >>> import re; bool(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.25 \S+", local_time(86400.25)))
    True
    """
    lt = time.localtime(epoch)
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', lt)}.{int(epoch % 1 * 100):02d} {time.strftime('%Z', lt)}"


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

def _gone(pid: int) -> ProcessNotFound:
    return ProcessNotFound(f"process {pid} exited while it was being read")


def _one(proc: psutil.Process, attr: str) -> Any:
    """One attribute, told apart: DENIED, None (a zombie has nothing left), or the value."""
    try:
        return getattr(proc, attr)()
    except (psutil.AccessDenied, PermissionError):
        return DENIED
    except psutil.ZombieProcess:
        return None  # a zombie has no memory, fds or cwd left: nothing to read, nothing denied
    except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
        raise _gone(proc.pid) from None
    except OSError:
        return None


def _attrs(proc: psutil.Process, names: Mapping[str, str], zombie: bool | None = None) -> dict[str, Any]:
    """``as_dict`` of the attributes, keyed by field name. It gives AccessDenied and ZombieProcess
    the same ``ad_value``: for a zombie (``status``, unless told) each DENIED is asked again to
    tell the two apart. An error psutil does not translate (a bare OSError): field by field."""
    if not names:
        return {}  # as_dict([]) would read every attribute, the environment too
    try:
        got = proc.as_dict(list(names), ad_value=DENIED)
    except psutil.NoSuchProcess:
        raise _gone(proc.pid) from None
    except OSError:
        got = {a: _one(proc, a) for a in names}
    if zombie is None:
        zombie = got.get("status") == psutil.STATUS_ZOMBIE
    if zombie:
        got = {a: _one(proc, a) if v is DENIED else v for a, v in got.items()}
    return {names[a]: got[a] for a in names}


def _proc_file(pid: int, name: str, limit: int) -> Any:
    """A /proc file's first ``limit`` bytes, as bytes (a cgroup path may be any bytes)."""
    try:
        with open(PROC / str(pid) / name, "rb") as f:
            return f.read(limit)
    except PermissionError:
        return DENIED
    except (FileNotFoundError, ProcessLookupError):
        raise _gone(pid) from None
    except OSError:
        return None


def read(pid: int, started: float | None = None) -> DetailRaw:
    """Everything the detail shows of ``pid``, read now. PidReused when ``started`` (the start
    time the caller knows) is not this process's."""
    try:
        proc = psutil.Process(pid)
        create_time = proc.create_time()
    except psutil.NoSuchProcess:
        raise ProcessNotFound(f"no process with PID {pid} (it has exited or never existed)") from None
    except psutil.AccessDenied:
        raise ProcessNotFound(f"process {pid} cannot be read") from None
    if started is not None and abs(create_time - started) > STARTED_TOLERANCE:
        raise PidReused(pid, started, create_time, _safe_name(proc))
    with proc.oneshot():
        values = _attrs(proc, BASIC)
        extra = {a: f for a, f in EXTRA.items()
                 if (a != "memory_full_info" or _readable(values["memory"]))
                 and (a != "open_files" or _small(values["num_fds"]))}
        values.update(dict.fromkeys(EXTRA.values()),
                      **_attrs(proc, extra, zombie=values["status"] == psutil.STATUS_ZOMBIE))
    for name, (filename, limit) in PROC_FILES.items():
        values[name] = _proc_file(pid, filename, limit)
    if isinstance(values["cmdline"], list):  # byte for byte, as the table has it (proc_stat.py)
        values["cmdline"] = proc_stat.read_cmdline(pid) or values["cmdline"]
    io = values["io"]
    rates = ((None, None) if not _readable(io) else
             IO_BASELINES.rates((pid, create_time), time.monotonic(), io.read_bytes, io.write_bytes))
    return DetailRaw(pid, create_time, values, rates)


def _readable(v: Any) -> bool:
    return v is not None and v is not DENIED


def _small(num_fds: Any) -> bool:
    return _readable(num_fds) and num_fds <= OPEN_FILES_MAX_SCAN


def _safe_name(proc: psutil.Process) -> str:
    try:
        return clean(proc.name(), NAME_LIMIT)
    except psutil.Error:
        return "unknown"


def read_detail(pid: int, started: float | None = None,
                rows: Mapping[int, ProcessRow] | None = None, mask: bool = True) -> ProcessDetail:
    """The detail of process ``pid``, read now: ``shape(read(pid, started), rows, mask)``."""
    return shape(read(pid, started), rows, mask)
