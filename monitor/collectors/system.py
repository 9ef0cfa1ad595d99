"""System: who this host is and how long it has been up.

Sample:
    hostname=build-7 os_name="Rocky Linux" os_version="9.4 (Blue Onyx)"
    os_pretty_name="Rocky Linux 9.4 (Blue Onyx)" kernel=5.14.0-427.el9.x86_64 arch=x86_64
    boot_time=1764150000.0 uptime=86400.0 cpu_model="AMD EPYC 7B13" cpu_logical=2 cpu_physical=1

``read()`` returns ``SystemRaw``: what can change (host name, boot time, the clock) read every
tick, plus ``SystemStatic`` (os-release and cpuinfo text, kernel, architecture, CPU counts) read
once by the collector. The pure ``shape(raw, prev, dt)`` parses and cleans; every string is
cleaned there (monitor/text.py): the host name is in every page's title and header, and
os-release is a file an image builder (or a container) writes.
"""
from __future__ import annotations

import functools
import platform
import shlex
import socket
import time
from dataclasses import dataclass

import psutil

from monitor import proc_stat
from monitor.text import clean, clean_or_none

from .base import AreaModel

FIELD_LIMIT = 256  # a host name is at most 64 bytes; os-release values and cpuinfo are short


class System(AreaModel):
    hostname: str
    os_name: str | None
    os_version: str | None
    os_id: str | None  # "rocky", "rhel", "debian": picks host-specific defaults (log paths)
    os_pretty_name: str | None
    kernel: str
    arch: str
    boot_time: float  # seconds since the epoch
    uptime: float  # seconds
    cpu_model: str | None
    cpu_logical: int | None
    cpu_physical: int | None


def parse_os_release(text: str) -> dict[str, str]:
    """Parse /etc/os-release (shell-style KEY="value" lines, see os-release(5))."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:  # an unbalanced quote: keep the raw text rather than fail
            parts = [value.strip("\"'")]
        out[key.strip()] = parts[0] if parts else ""
    return out


def parse_cpu_model(cpuinfo: str) -> str | None:
    """The first "model name" of /proc/cpuinfo (x86), or another architecture's equivalent."""
    for key in ("model name", "Model", "cpu model", "Processor"):
        for line in cpuinfo.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key and value.strip():
                return value.strip()
    return None


@dataclass(frozen=True)
class SystemStatic:
    """What cannot change while the console runs, as read."""
    os_release: str  # text of /etc/os-release (or /usr/lib/os-release)
    cpuinfo: str  # text of /proc/cpuinfo
    kernel: str  # platform.release()
    arch: str  # platform.machine()
    cpu_logical: int | None
    cpu_physical: int | None


@dataclass(frozen=True)
class SystemRaw:
    static: SystemStatic
    hostname: str
    boot_time: float  # proc_stat.boot_time() (psutil.boot_time()'s value), seconds since the epoch
    wall_time: float  # time.time() when read


@functools.lru_cache(maxsize=4)
def shape_static(st: SystemStatic) -> dict:
    """The model's fields that come from ``SystemStatic`` (parsed once per reading, not per tick)."""
    osr = parse_os_release(st.os_release)
    return dict(
        os_name=clean_or_none(osr.get("NAME"), FIELD_LIMIT),
        os_version=clean_or_none(osr.get("VERSION") or osr.get("VERSION_ID"), FIELD_LIMIT),
        os_id=clean_or_none(osr.get("ID"), FIELD_LIMIT),
        os_pretty_name=clean_or_none(osr.get("PRETTY_NAME"), FIELD_LIMIT),
        kernel=clean(st.kernel, FIELD_LIMIT),
        arch=clean(st.arch, FIELD_LIMIT),
        cpu_model=clean_or_none(parse_cpu_model(st.cpuinfo), FIELD_LIMIT),
        cpu_logical=st.cpu_logical,
        cpu_physical=st.cpu_physical,
    )


def shape(raw: SystemRaw, prev: SystemRaw | None = None, dt: float = 0.0) -> System:
    return System(
        hostname=clean(raw.hostname, FIELD_LIMIT),
        boot_time=raw.boot_time,
        uptime=round(max(0.0, raw.wall_time - raw.boot_time), 1),
        **shape_static(raw.static),
    )


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def read_static() -> SystemStatic:
    return SystemStatic(
        os_release=_read_text("/etc/os-release") or _read_text("/usr/lib/os-release"),
        cpuinfo=_read_text("/proc/cpuinfo"),
        kernel=platform.release(),
        arch=platform.machine(),
        cpu_logical=psutil.cpu_count(logical=True),
        cpu_physical=psutil.cpu_count(logical=False),
    )


def read(static: SystemStatic) -> SystemRaw:
    return SystemRaw(static=static, hostname=socket.gethostname(), boot_time=proc_stat.boot_time(),
                     wall_time=time.time())


class SystemCollector:
    name = "system"
    model = System
    interval = 0.0
    unwatched_interval = 10.0  # nobody looking: facts, no check, uptime shown in minutes

    def __init__(self) -> None:
        self._static = read_static()  # what cannot change while the process runs is read once

    def collect(self, now: float) -> System:
        return shape(read(self._static))

    def series(self, data: System) -> dict[str, float]:
        return {}
