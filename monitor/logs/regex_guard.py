r"""A user's regular expression is compiled by a helper process first, never first in the console.

    compile_user(r"sshd\[\d+\]: (error|fatal)", regex.V0)  -> the compiled pattern (then cached)
    compile_user("(?:x{1000}){1000}", regex.V0)             -> Refused("too complex: compiling it
                                                               needs more than 32 MiB (nested ...")
    compile_user("(?:x{3000}){3000}", regex.V0)             -> Refused("a repeat count of 3000 is
                                                               more than 1000"), no helper asked

Why a process: compiling ``(?:x{3000}){3000}`` takes 10 s and 2.3 GiB, and the ``regex`` package's
timeout only covers matching. A thread can be neither killed nor memory-capped; a process can. The
helper (``sys.executable -I -c HELPER``) caps its own address space (RLIMIT_AS, HEADROOM above what
it needs idle), compiles the pattern and reports how much memory that took (its peak RSS, reset
before each compile through /proc/self/clear_refs). It is killed if it does not answer within
CHECK_TIMEOUT and started again on the next check. Only a pattern that compiled there within
MAX_COST is compiled in the console, one at a time, and kept in a small LRU whose total cost is
bounded (CACHE_BUDGET), so accepted patterns add at most ~20 MiB to the console whatever is asked.

Callers run in worker threads (the log routes' dependencies are plain ``def``): a check blocks its
thread, never the event loop. Checks are serialised (one helper); at most MAX_WAITING requests
wait for it, others are told the checker is busy (503) rather than piling up in the thread pool.
"""
from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the package itself is imported by the first compile: 1.5 MiB nobody else needs
    import regex

MiB = 1024 * 1024
MAX_REPEAT = 1000  # largest {n} accepted: refused before the helper is even asked
HEADROOM = 32 * MiB  # address space the helper may add to its idle size for one compile
MAX_COST = 4 * MiB  # memory one accepted pattern may take to compile (a log search needs KiB)
CACHE_BUDGET = 16 * MiB  # total cost of the compiled patterns kept
CACHE_ENTRIES = 128  # patterns remembered, refused ones included (a retried bad one is instant)
CHECK_TIMEOUT = 0.5  # seconds the helper may take to compile one pattern
START_TIMEOUT = 10.0  # seconds for a new helper to say it is ready (a loaded 2-core host)
MAX_WAITING = 4  # requests waiting for the helper at once; more are told it is busy
WAIT_MAX = 3.0  # seconds a request waits for its turn

# The helper: compiles each [pattern, flags] line it reads and answers one JSON line. It exits
# (and a fresh one is started) after a MemoryError, when it cannot reset its peak RSS (so each
# check starts from a clean peak), or when its RSS grew (malloc keeps what it once needed).
HELPER = r"""
import json, resource, sys
import regex

def kib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return 0

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

headroom, recycle = int(sys.argv[1]), int(sys.argv[2]) // 1024
limit = kib("VmSize:") * 1024 + headroom
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
idle = kib("VmRSS:")
print('{"ready": true}', flush=True)
for line in sys.stdin:
    pattern, flags = json.loads(line)
    fresh = reset_peak()
    before = kib("VmRSS:")
    try:
        compiled = regex.compile(pattern, flags, cache_pattern=False)
        answer = {"ok": True, "cost": (kib("VmHWM:") - before) * 1024}
        del compiled
    except MemoryError:
        answer = {"ok": False, "why": "memory"}
        fresh = False
    except RecursionError:
        answer = {"ok": False, "why": "nested"}
    except Exception as e:
        answer = {"ok": False, "why": "invalid", "msg": str(e)[:200]}
    leave = not fresh or kib("VmRSS:") - idle > recycle
    answer["bye"] = leave
    print(json.dumps(answer), flush=True)
    if leave:
        break
"""
HELPER_ARGV = [sys.executable, "-I", "-c", HELPER, str(HEADROOM), str(MAX_COST)]

# {n}, {n,}, {,m}, {n,m}; escapes are removed first so \{ and \p{L} are not counted.
_REPEAT = re.compile(r"\{(\d*),?(\d*)\}")
_ESCAPE = re.compile(r"\\.", re.S)


class Refused(ValueError):
    """The pattern is refused; the message says why (the caller prefixes "regex: ")."""


class CheckerUnavailable(RuntimeError):
    """No check could be made now (busy, or the helper cannot start): a 503, not the user's fault."""


class _Helper:
    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.buf = b""

    def _start(self) -> None:
        try:
            self.proc = subprocess.Popen(HELPER_ARGV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, bufsize=0)
        except OSError as e:
            raise CheckerUnavailable(f"the pattern checker could not start: {e.strerror or e}") from None
        self.buf = b""
        if self._readline(START_TIMEOUT) in (None, b""):
            self.stop()
            raise CheckerUnavailable("the pattern checker did not start")

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for f in (self.proc.stdin, self.proc.stdout):
                f.close()
        self.proc = None

    def _readline(self, timeout: float) -> bytes | None:
        """One answer line; b"" when the helper exited, None when it did not answer in time."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return b""
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def ask(self, pattern: str, flags: int) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.stop()
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps([pattern, flags]).encode() + b"\n")
        except OSError:  # it died since: a fresh one, once
            self.stop()
            self._start()
            self.proc.stdin.write(json.dumps([pattern, flags]).encode() + b"\n")
        line = self._readline(CHECK_TIMEOUT)
        if line is None:
            self.stop()
            raise Refused(f"too complex: compiling it took longer than {CHECK_TIMEOUT:g} s; simplify the pattern")
        if line == b"":
            self.stop()
            raise Refused("too complex: the pattern checker stopped while compiling it; simplify the pattern")
        answer = json.loads(line)
        if answer.get("bye"):
            self.stop()
        return answer


_helper = _Helper()
_helper_lock = threading.Lock()
_waiting = threading.BoundedSemaphore(MAX_WAITING)
_compile_lock = threading.Lock()  # one compile in the console at a time: one MAX_COST at a time
_cache: OrderedDict[tuple[str, int], tuple[regex.Pattern | str, int]] = OrderedDict()
_cache_lock = threading.Lock()
_cache_cost = 0


def check_repeats(pattern: str) -> None:
    """Refuse a counted repeat over MAX_REPEAT at once: no helper needed to know that is too much."""
    for m in _REPEAT.finditer(_ESCAPE.sub("", pattern)):
        for n in m.groups():
            if n and int(n) > MAX_REPEAT:
                raise Refused(f"a repeat count of {int(n) if len(n) < 10 else n[:9] + '…'} is more "
                              f"than {MAX_REPEAT}")


def check(pattern: str, flags: int) -> int:
    """Compile ``pattern`` in the helper; its cost in bytes, or Refused saying why."""
    if not _waiting.acquire(blocking=False):
        raise CheckerUnavailable("the pattern checker is busy; retry in a moment")
    try:
        if not _helper_lock.acquire(timeout=WAIT_MAX):
            raise CheckerUnavailable("the pattern checker is busy; retry in a moment")
        try:
            answer = _helper.ask(pattern, flags)
        finally:
            _helper_lock.release()
    finally:
        _waiting.release()
    if answer["ok"]:
        if answer["cost"] > MAX_COST:
            raise Refused(f"too complex: compiling it takes {answer['cost'] / MiB:.0f} MiB, more than "
                          f"{MAX_COST // MiB} MiB; simplify the pattern")
        return max(answer["cost"], 4096)
    if answer["why"] == "memory":
        raise Refused(f"too complex: compiling it needs more than {HEADROOM // MiB} MiB (nested repeats "
                      "multiply); simplify the pattern")
    if answer["why"] == "nested":
        raise Refused("too deeply nested")
    raise Refused(f"invalid pattern: {answer.get('msg', 'cannot be compiled')}")


def compile_user(pattern: str, flags: int) -> regex.Pattern:
    """``pattern`` compiled, once it passed the checks above; Refused (cached too) otherwise."""
    global _cache_cost
    key = (pattern, flags)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            found = _cache[key][0]
            if isinstance(found, str):
                raise Refused(found)
            return found
    try:
        check_repeats(pattern)
        cost = check(pattern, flags)
    except Refused as e:
        value, cost = str(e), 0
    else:
        import regex
        with _compile_lock:
            value = regex.compile(pattern, flags, cache_pattern=False)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = (value, cost)
            _cache_cost += cost
            while len(_cache) > CACHE_ENTRIES or (_cache_cost > CACHE_BUDGET and len(_cache) > 1):
                _cache_cost -= _cache.popitem(last=False)[1][1]
    if isinstance(value, str):
        raise Refused(value)
    return value
