"""What a unit costs, from its cgroup v2 directory (like systemd-cgtop).

The files and their formats are the kernel's (Documentation/admin-guide/cgroup-v2.rst):

    cpu.stat          usage_usec 4500000\\nuser_usec 4000000\\nsystem_usec 500000
    memory.current    1048576                       (bytes)
    memory.peak       2097152                       (bytes; kernel 5.19+, may be missing)
    memory.max        max | 536870912
    io.stat           8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0   (one line a device)
    pids.current      3
    cpu.pressure      some avg10=1.50 avg60=0.80 avg300=0.20 total=12345\\nfull avg10=...
    memory.pressure, io.pressure  the same

Only a pure cgroup v2 host (``/sys/fs/cgroup`` is cgroup2) has them per unit with the cpu, memory,
io and pids controllers. On a v1 or hybrid host (the unified hierarchy at /sys/fs/cgroup/unified
holds no controllers) the area says so and shows states only.

>>> parse_io("8:0 rbytes=4096 wbytes=8192 rios=1\\n8:16 rbytes=1 wbytes=2\\n")
(4097, 8194)
>>> parse_pressure("some avg10=1.50 avg60=0.80 avg300=0.20 total=1\\nfull avg10=0.00 avg60=0 avg300=0 total=0")
1.5
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from monitor.collectors.base import rate

ROOT = Path("/sys/fs/cgroup")
READ_MAX = 64 * 1024  # io.stat of a host with many devices stays small; cap the read anyway


class Costs(BaseModel):
    model_config = ConfigDict(frozen=True)

    cpu_percent: float | None = None  # of one core, like top; None on the first reading
    memory: int | None = None  # bytes (memory.current)
    memory_peak: int | None = None
    memory_max: int | None = None  # None: no limit ("max")
    io_read_per_s: float | None = None
    io_write_per_s: float | None = None
    tasks: int | None = None
    pressure_cpu: float | None = None  # PSI some avg10, %
    pressure_memory: float | None = None
    pressure_io: float | None = None


def mode(mountinfo: str = "/proc/self/mountinfo") -> str:
    """ "v2" (unified only), "hybrid" (v1 controllers plus /sys/fs/cgroup/unified), "v1", or
    "none"."""
    types: dict[str, str] = {}
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields = left.split()
                if len(fields) > 4 and fields[4].startswith(str(ROOT)):
                    types[fields[4]] = right.split()[0] if right else ""
    except OSError:
        return "none"
    if types.get(str(ROOT)) == "cgroup2":
        return "v2"
    if types.get(f"{ROOT}/unified") == "cgroup2":
        return "hybrid"
    return "v1" if "cgroup" in types.values() else "none"


def _read(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read(READ_MAX).decode("ascii", "replace")
    except OSError:
        return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() else None


def parse_keyed(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        if v.strip().isdigit():
            out[k] = int(v)
    return out


def parse_io(text: str) -> tuple[int, int]:
    r = w = 0
    for line in text.splitlines():
        for field in line.split()[1:]:
            k, _, v = field.partition("=")
            if v.isdigit():
                if k == "rbytes":
                    r += int(v)
                elif k == "wbytes":
                    w += int(v)
    return r, w


def parse_pressure(text: str) -> float | None:
    for line in text.splitlines():
        if line.startswith("some "):
            for field in line.split()[1:]:
                k, _, v = field.partition("=")
                if k == "avg10":
                    try:
                        return float(v)
                    except ValueError:
                        return None
    return None


def read_raw(directory: Path) -> dict | None:
    """One unit's counters and levels; None when the directory is gone."""
    stat = _read(directory / "cpu.stat")
    if stat is None and not directory.is_dir():
        return None
    io = _read(directory / "io.stat")
    mx = _read(directory / "memory.max")
    raw = {
        "cpu_usec": parse_keyed(stat).get("usage_usec") if stat else None,
        "memory": _int(_read(directory / "memory.current")),
        "memory_peak": _int(_read(directory / "memory.peak")),
        "memory_max": None if mx is None or mx.strip() == "max" else _int(mx),
        "io": parse_io(io) if io is not None else None,
        "tasks": _int(_read(directory / "pids.current")),
    }
    for res in ("cpu", "memory", "io"):
        text = _read(directory / f"{res}.pressure")
        raw[f"pressure_{res}"] = parse_pressure(text) if text else None
    return raw


def shape(cur: dict, prev: dict | None, dt: float) -> Costs:
    """Counters into rates against the previous reading (None on the first)."""
    p = prev or {}
    cpu = rate(cur["cpu_usec"], p.get("cpu_usec"), dt)
    io, pio = cur["io"], p.get("io")
    return Costs(
        cpu_percent=None if cpu is None else round(cpu / 1e4, 2),  # usec/s -> % of one core
        memory=cur["memory"], memory_peak=cur["memory_peak"], memory_max=cur["memory_max"],
        io_read_per_s=rate(io[0], pio[0], dt) if io and pio else None,
        io_write_per_s=rate(io[1], pio[1], dt) if io and pio else None,
        tasks=cur["tasks"], pressure_cpu=cur["pressure_cpu"],
        pressure_memory=cur["pressure_memory"], pressure_io=cur["pressure_io"])


def unit_dir(control_group: str, root: Path = ROOT) -> Path | None:
    """The directory of a unit's ControlGroup ("/system.slice/nginx.service"), never outside
    ``root`` (the path is host data)."""
    if not control_group or not control_group.startswith("/") or "/.." in control_group:
        return None
    return root / control_group.lstrip("/")


def pids(control_group: str, root: Path, limit: int = 200) -> list[int]:
    """The processes in a unit's cgroup and below it (scopes, sub-cgroups), at most ``limit``."""
    d = unit_dir(control_group, root)
    out: list[int] = []
    if d is None or not d.is_dir():
        return out
    for f in [d / "cgroup.procs", *sorted(d.glob("**/cgroup.procs"))][: limit]:
        for word in (_read(f) or "").split():
            if word.isdigit() and int(word) not in out:
                out.append(int(word))
                if len(out) >= limit:
                    return out
    return out
