"""Acting on a process: a signal or a new nice value, refused where the console must not act.

    t = open_target(4121, started=1795692801.37)   # Refused / Gone / Reused (with an HTTP status)
    with t:
        outcome = send(t, "TERM")                     # Outcome(result="gone", message=...)
        outcome = renice(t, 10, allow_lower=False)    # Outcome(result="running", nice=10, ...)

Which process, and whether at all: monitor/actions_target.py (the pidfd-held Target, the
refusal rules). Signals go through that pidfd (pidfd_send_signal(2)), so a PID reused meanwhile
is never hit. setpriority(2) has no pidfd form: it names the PID, so the pidfd is checked
afterwards - a target still alive then held its PID throughout, so the new nice value reached it
and nothing else.

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
from typing import Literal

from .actions_target import (  # noqa: F401 - callers import the target's names from here
    COMMAND_LIMIT,
    PF_KTHREAD,
    ActionError,
    Gone,
    Refused,
    Reused,
    Target,
    open_target,
    refusal,
    stat_of,
)

SIGNALS = {"TERM": signal.SIGTERM, "INT": signal.SIGINT, "HUP": signal.SIGHUP,
           "KILL": signal.SIGKILL, "STOP": signal.SIGSTOP, "CONT": signal.SIGCONT}
SignalName = Literal["TERM", "INT", "HUP", "KILL", "STOP", "CONT"]
NICE_MIN, NICE_MAX = 0, 19  # what an operator may set; lower only with renice_lower
WAIT = 1.0  # seconds the result waits for the process to exit, stop or continue
STEP = 0.02  # seconds between two looks at a process that should stop or continue
THREADS_MAX = 10_000  # renice reaches at most this many threads of one process
CAP_SYS_NICE = 23
PROC = Path("/proc")
Result = Literal["gone", "running", "stopped", "denied"]


@dataclass(frozen=True)
class Outcome:
    result: Result
    message: str
    nice: int | None = None  # after a renice


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
