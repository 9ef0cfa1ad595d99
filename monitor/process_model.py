"""What one process's detail is: the models monitor/process_detail.py reads and
monitor/process_shape.py makes.
"""
from __future__ import annotations

from pydantic import BaseModel, Field

OPEN_FILES_SHOWN = 20
CONNECTIONS_SHOWN = 50


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


class ProcessMemory(BaseModel):
    """One process's memory (the host's is monitor/collectors/memory.py's ``Memory``)."""

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
    memory: ProcessMemory | None
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
