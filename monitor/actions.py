"""Acting on a process: a signal or a new nice value, refused where the console must not act.

    t = open_target(4121, started=1795692801.37)   # Refused / Gone / Reused (with an HTTP status)
    with t:
        outcome = send(t, "TERM")                     # Outcome(result="gone", message=...)
        outcome = renice(t, 10, allow_lower=False)    # Outcome(result="running", nice=10, ...)

PID reuse: the target is held by a pidfd (pidfd_open(2)) opened *before* its start time is
compared with the one the request names, so the process that passed the comparison is the one
signalled (pidfd_send_signal(2)), even if it exits and its PID is reused meanwhile. setpriority(2)
has no pidfd form: it names the PID, so the pidfd is checked afterwards - a target still alive
then held its PID throughout, so the new nice value reached it and nothing else.

Never acted on: PID 1 (the init system), kernel threads (kthreadd's children, PF_KTHREAD in
/proc/PID/stat), a thread ID (signals go to the whole process: ask for the process), the console
itself, its parent (whatever supervises it: systemd is PID 1 anyway, a shell or a test runner
otherwise) and its own children (the regex helper, journalctl followers; it manages them).

The result is read after a bounded wait (WAIT s, polling the pidfd, which becomes readable when
the process exits): gone, stopped, running, or denied (the kernel refused: another user's process
without CAP_KILL / CAP_SYS_NICE, or setpriority filtered out by the shipped unit's seccomp filter;
deploy/actions.conf grants both).
"""
from __future__ import annotations

import os
import select
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

import psutil

from .masking import mask_argv
from .process_rows import bounded_argv
from .process_shape import STARTED_TOLERANCE
from .text import clean

SIGNALS = {"TERM": signal.SIGTERM, "INT": signal.SIGINT, "HUP": signal.SIGHUP,
           "KILL": signal.SIGKILL, "STOP": signal.SIGSTOP, "CONT": signal.SIGCONT}
SignalName = Literal["TERM", "INT", "HUP", "KILL", "STOP", "CONT"]
NICE_MIN, NICE_MAX = 0, 19  # what an operator may set; lower only with renice_lower
WAIT = 1.0  # seconds the result waits for the process to exit, stop or continue
STEP = 0.02  # seconds between two looks at a process that should stop or continue
THREADS_MAX = 10_000  # renice reaches at most this many threads of one process
COMMAND_LIMIT = 512  # characters of the (masked) command line the confirmation shows
PF_KTHREAD = 0x00200000  # include/linux/sched.h: the task is a kernel thread
CAP_SYS_NICE = 23
PROC = Path("/proc")
Result = Literal["gone", "running", "stopped", "denied"]


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


@dataclass(frozen=True)
class Outcome:
    result: Result
    message: str
    nice: int | None = None  # after a renice


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


def send(target: Target, name: str, wait: float = WAIT) -> Outcome:
    """Send signal ``name`` (a key of SIGNALS) and say what became of the process."""
    sig = SIGNALS[name]
    try:
        signal.pidfd_send_signal(target.pidfd, sig)
    except ProcessLookupError:
        return Outcome("gone", f"{_who(target)} had already exited")
    except PermissionError:
        return Outcome("denied", f"permission denied: the console may not signal {_who(target)} "
                                 f"(user {target.user}); it needs CAP_KILL (deploy/actions.conf)")
    if sig == signal.SIGSTOP:
        return _until(target, wait, lambda s: s in ("T", "t"), f"SIG{name} sent to {_who(target)}")
    if sig == signal.SIGCONT:
        return _until(target, wait, lambda s: s not in ("T", "t"), f"SIG{name} sent to {_who(target)}")
    if _exited(target, wait):
        return Outcome("gone", f"SIG{name} sent to {_who(target)}: it has exited")
    state = _state(target)
    if state is None:
        return Outcome("gone", f"SIG{name} sent to {_who(target)}: it has exited")
    if state in ("T", "t"):
        return Outcome("stopped", f"SIG{name} sent to {_who(target)}: it is stopped (a stopped "
                                  f"process acts on most signals only once continued)")
    return Outcome("running", f"SIG{name} sent to {_who(target)}: still running after {wait:g} s")


def renice(target: Target, value: int, allow_lower: bool) -> Outcome:
    """Set every thread of the process to nice ``value`` (NICE_MIN..NICE_MAX). Refused (403) when
    that lowers the current value and ``allow_lower`` is off."""
    if not NICE_MIN <= value <= NICE_MAX:
        raise Refused(f"nice must be within {NICE_MIN}..{NICE_MAX}, not {value}")
    pid = target.pid
    try:
        current = os.getpriority(os.PRIO_PROCESS, pid)
    except ProcessLookupError:
        return Outcome("gone", f"{_who(target)} had already exited")
    if value < current and not allow_lower:
        raise Refused(f"{_who(target)} has nice {current}; lowering it to {value} (a higher "
                      f"priority) is off (SERVER_MONITOR_RENICE_LOWER)")
    try:
        threads = sorted(int(t) for t in os.listdir(PROC / str(pid) / "task"))[:THREADS_MAX]
    except (FileNotFoundError, ValueError):
        threads = [pid]
    try:
        for tid in threads:  # nice is per thread on Linux: setpriority(PID) alone sets one
            try:
                os.setpriority(os.PRIO_PROCESS, tid, value)
            except ProcessLookupError:
                if tid == pid:
                    raise
    except ProcessLookupError:
        return Outcome("gone", f"{_who(target)} had already exited")
    except PermissionError:
        need = "CAP_SYS_NICE" if value < current else "CAP_SYS_NICE for another user's process"
        return Outcome("denied", f"permission denied: the console may not renice {_who(target)} "
                                 f"(user {target.user}) to {value}; it needs {need} and the "
                                 f"setpriority system call (deploy/actions.conf)", nice=current)
    if _exited(target, 0):  # gone now: the PID named by setpriority may not have been ours
        return Outcome("gone", f"{_who(target)} exited while being reniced")
    after = os.getpriority(os.PRIO_PROCESS, pid)
    state = _state(target)
    result: Result = "stopped" if state in ("T", "t") else "running"
    return Outcome(result, f"{_who(target)} reniced from {current} to {after}"
                           + (f" ({len(threads)} threads)" if len(threads) > 1 else ""), nice=after)


def may_lower() -> bool:
    """Whether this console may lower nice values: CAP_SYS_NICE in its effective set."""
    try:
        for line in (PROC / "self" / "status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_SYS_NICE & 1)
    except (OSError, ValueError):
        pass
    return False


def _who(t: Target) -> str:
    return f"{t.name} ({t.pid})"


def _exited(target: Target, wait: float) -> bool:
    """Whether the held process has exited (a zombie counts), waiting at most ``wait`` s."""
    poller = select.poll()
    poller.register(target.pidfd, select.POLLIN)
    return bool(poller.poll(max(0, int(wait * 1000))))


def _state(target: Target) -> str | None:
    """The held process's state letter; None once it has exited. Read only while the pidfd says
    it is alive, so /proc/PID is still this process."""
    if _exited(target, 0):
        return None
    try:
        return stat_of(target.pid)[2]
    except (OSError, ValueError, IndexError):
        return None


def _until(target: Target, wait: float, reached, what: str) -> Outcome:
    deadline = time.monotonic() + wait
    while True:
        state = _state(target)
        if state is None:
            return Outcome("gone", f"{what}: it has exited")
        if reached(state) or time.monotonic() >= deadline:
            stopped = state in ("T", "t")
            return Outcome("stopped" if stopped else "running",
                           f"{what}: it is {'stopped' if stopped else 'running'}")
        time.sleep(STEP)
