"""The process an action is for, held by a pidfd, and the rules that refuse one (monitor/actions.py).

PID reuse: the target is held by a pidfd (pidfd_open(2)) opened *before* its start time is
compared with the one the request names, so the process that passed the comparison is the one
acted on, even if it exits and its PID is reused meanwhile.

Never acted on: PID 1 (the init system), kernel threads (kthreadd's children, PF_KTHREAD in
/proc/PID/stat), a thread ID (signals go to the whole process: ask for the process), the console
itself, its parent (whatever supervises it: systemd is PID 1 anyway, a shell or a test runner
otherwise) and its own children (the regex helper, journalctl followers; it manages them).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import psutil

from .masking import mask_argv
from .process_rows import bounded_argv
from .process_shape import STARTED_TOLERANCE
from .text import clean

COMMAND_LIMIT = 512  # characters of the (masked) command line the confirmation shows
PF_KTHREAD = 0x00200000  # include/linux/sched.h: the task is a kernel thread
PROC = Path("/proc")


class ActionError(Exception):
    """The action was not attempted; ``status`` is the HTTP answer, ``result`` the audit word."""
    status = 403
    result = "refused"

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.name = name  # the process's name when it was read


class Refused(ActionError):
    pass


class Gone(ActionError):
    status, result = 404, "not found"


class Reused(ActionError):
    status, result = 409, "pid reused"


@dataclass
class Target:
    pid: int
    started: float  # psutil create_time of the process held
    name: str
    command: str  # masked and cleaned, at most COMMAND_LIMIT characters
    user: str
    pidfd: int = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1


def stat_of(pid: int) -> tuple[int, int, str]:
    """(ppid, flags, state) from /proc/PID/stat; the name in parentheses may hold anything."""
    text = (PROC / str(pid) / "stat").read_bytes().decode("ascii", "replace")
    fields = text.rpartition(")")[2].split()
    return int(fields[1]), int(fields[6]), fields[0]


def tgid_of(pid: int) -> int:
    for line in (PROC / str(pid) / "status").read_bytes().splitlines():
        if line.startswith(b"Tgid:"):
            return int(line.split()[1])
    return pid


def refusal(pid: int, ppid: int, flags: int, tgid: int,
            console: int | None = None, console_parent: int | None = None) -> str | None:
    """Why the console never acts on this process (None: it may). Pure.

    >>> refusal(1, 0, 0x400100, 1, console=500, console_parent=400)
    'PID 1 is the init system: the console never signals or renices it'
    >>> refusal(77, 2, 0x208040, 77, console=500, console_parent=400)
    'PID 77 is a kernel thread'
    >>> refusal(900, 400, 0x400000, 900, console=500, console_parent=400) is None
    True
    """
    console = os.getpid() if console is None else console
    console_parent = os.getppid() if console_parent is None else console_parent
    if pid == 1:
        return "PID 1 is the init system: the console never signals or renices it"
    if pid == 2 or ppid == 2 or flags & PF_KTHREAD:
        return f"PID {pid} is a kernel thread"
    if tgid != pid:
        return f"PID {pid} is a thread of process {tgid}; act on the process"
    if pid == console:
        return f"PID {pid} is the console itself"
    if pid == console_parent:
        return f"PID {pid} is the console's parent (what started and supervises it)"
    if ppid == console:
        return f"PID {pid} is one of the console's own helper processes"
    return None


def open_target(pid: int, started: float, mask: bool = True) -> Target:
    """The process ``pid`` that started at ``started``, held by a pidfd (close it: ``with``)."""
    try:
        tgid = tgid_of(pid)
        ppid, flags, _state = stat_of(pid)
    except (FileNotFoundError, ProcessLookupError):
        raise Gone(f"no process {pid}") from None
    except (OSError, ValueError, IndexError) as exc:
        raise Gone(f"process {pid} could not be read ({exc})") from None
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        raise Gone(f"no process {pid}") from None
    except OSError:  # EINVAL: a thread ID (pidfd_open takes only a process's)
        fd = -1
    target = Target(pid=pid, started=0.0, name="", command="", user="", pidfd=fd)
    try:
        # After pidfd_open: a PID reused in between shows the newcomer's start time here.
        proc = psutil.Process(pid)
        with proc.oneshot():
            target.started = proc.create_time()
            target.name = clean(proc.name())
            target.user = _quiet(proc.username, "?")
            argv = _quiet(proc.cmdline, [])
        if abs(target.started - started) > STARTED_TOLERANCE:
            raise Reused(f"PID {pid} no longer belongs to the process that started at "
                         f"{started:.2f}: it is now {target.name} (started at "
                         f"{target.started:.2f}); nothing was done")
        why = refusal(pid, ppid, flags, tgid)
        if why is None and fd < 0:
            why = f"PID {pid} cannot be held (pidfd_open refused it)"
        if why:
            raise Refused(why)
        argv = mask_argv(argv) if mask else argv
        target.command = " ".join(bounded_argv(argv, COMMAND_LIMIT)) or f"[{target.name}]"
        return target
    except psutil.ZombieProcess:
        target.close()
        raise Gone(f"process {pid} has exited (a zombie its parent has not reaped yet)") from None
    except psutil.NoSuchProcess:
        target.close()
        raise Gone(f"no process {pid}") from None
    except ActionError as exc:
        target.close()
        exc.name = exc.name or target.name
        raise
    except BaseException:
        target.close()
        raise


def _quiet(read, default):
    try:
        return read()
    except psutil.AccessDenied:
        return default
