"""OOM kills: how many the kernel counted (/proc/vmstat's ``oom_kill``) and whom it killed (the
kernel log), for the pressure area (monitor/collectors/pressure.py says why they live there).

``OomTracker.update`` is called every tick with the counter; only when it rose is the kernel log
read (/dev/kmsg, else ``dmesg``), and its victims not named before are kept for OOM_WINDOW seconds.
"""
from __future__ import annotations

import os
import re
import subprocess
from collections import deque
from dataclasses import dataclass, field

from monitor.procfile import counter
from monitor.text import clean

from .collectors.base import AreaModel

NAME_LIMIT = 64
KMSG = "/dev/kmsg"
OOM_WINDOW = 600.0  # seconds an OOM kill counts in pressure_oom_kills (and stays on the card)
KMSG_RECORDS = 20000  # records read from /dev/kmsg at most (the ring buffer is bounded anyway)
_KILLED = re.compile(r"Killed process (\d+) \((.{1,64}?)\)(?=[ ,]|$)")
_TASK = re.compile(r"oom-kill:.*?\btask=([^,]{1,64}),pid=(\d+)")


class OomKill(AreaModel):
    at: float  # wall time the console saw it
    pid: int | None
    name: str | None  # the victim's command name, None when the kernel log was unreadable


def oom_count(vmstat: str) -> int | None:
    """/proc/vmstat text -> its ``oom_kill`` counter, None before Linux 4.13.

    >>> oom_count("pgfault 10\\noom_kill 3\\n")
    3
    """
    return counter(vmstat.encode(), b"oom_kill")


def victims(log: str) -> list[tuple[int, str]]:
    """(pid, name) of each OOM kill in kernel log text, oldest first; one per kill, whether the
    line is "Out of memory: Killed process 1234 (python3)", the memory cgroup's "Memory cgroup out
    of memory: Killed process ..." or only the "oom-kill:...,task=python3,pid=1234" summary.

    >>> victims("oom-kill:constraint=CONSTRAINT_MEMCG,task=python3,pid=12,uid=0\\n"
    ...         "Memory cgroup out of memory: Killed process 12 (python3) total-vm:1kB\\n")
    [(12, 'python3')]
    """
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None  # an oom-kill: summary, waiting for its Killed line
    for line in log.splitlines():
        m = _KILLED.search(line)
        if m:
            out.append((int(m.group(1)), m.group(2)))
            pending = None
            continue
        m = _TASK.search(line)
        if m:
            if pending is not None:
                out.append(pending)
            pending = (int(m.group(2)), m.group(1))
    if pending is not None:
        out.append(pending)
    return out


def read_kernel_log() -> str | None:
    """The kernel log's messages (no prefixes), or None when neither /dev/kmsg nor dmesg can be
    read (needs CAP_SYSLOG, or kernel.dmesg_restrict=0)."""
    try:
        fd = os.open(KMSG, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        fd = None
    if fd is not None:
        lines = []
        try:
            for _ in range(KMSG_RECORDS):
                try:
                    rec = os.read(fd, 8192)
                except BlockingIOError:
                    break
                except OSError as e:  # EPIPE: a record was overwritten while reading; go on
                    if e.errno == 32:
                        continue
                    break
                if not rec:
                    break
                lines.append(rec.split(b";", 1)[-1].split(b"\n", 1)[0].decode("utf-8", "replace"))
        finally:
            os.close(fd)
        return "\n".join(lines)
    try:
        p = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=5, errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout if p.returncode == 0 else None


@dataclass
class OomTracker:
    """The kill count between ticks and the named victims of the last OOM_WINDOW seconds."""
    last: int | None = None
    kills: deque = field(default_factory=deque)  # OomKill, oldest first
    named: set = field(default_factory=set)  # pids already reported (the log holds old kills too)

    def update(self, count: int | None, now: float, log_reader=read_kernel_log) -> None:
        if count is None:
            return
        if self.last is None:  # the first reading: kills before the console started are history
            self.last = count
            self._seed(log_reader)
            return
        new = count - self.last if count >= self.last else count
        self.last = count
        if new > 0:
            log = log_reader()
            found = [v for v in victims(log or "") if v[0] not in self.named]
            found = found[-new:]
            for pid, name in found:
                self.named.add(pid)
                self.kills.append(OomKill(at=now, pid=pid, name=clean(name, NAME_LIMIT)))
            for _ in range(new - len(found)):
                self.kills.append(OomKill(at=now, pid=None, name=None))
        while self.kills and self.kills[0].at < now - OOM_WINDOW:
            self.kills.popleft()

    def _seed(self, log_reader) -> None:
        # Old kills still in the ring buffer are not new: remember their pids. Reading the log
        # once at start only when the counter says there were any.
        if self.last:
            self.named.update(pid for pid, _ in victims(log_reader() or ""))
