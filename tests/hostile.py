"""A hostile host, made by the test itself: processes and files a hostile local user could make.

    from tests.hostile import hostile_host          # a context manager

    @pytest.fixture(scope="module")
    def hostile():
        with hostile_host() as h:
            yield h

    def test_x(hostile):
        hostile.pids["busy"], hostile.log_path, hostile.secrets, hostile.all_pids()

What it makes (every process is a child of the test, started from this Python with ``-c``, and
killed and reaped when the context ends; the files live in one temporary directory):

==============  ========================================================================
role            what
==============  ========================================================================
``comm``        comm (PR_SET_NAME) of raw bytes: invalid UTF-8, ESC, U+202E, U+0085
``argv``        argv[0] and arguments of raw bytes (invalid UTF-8, ANSI/OSC, C1, bidi)
``cwd``         cwd is a directory named with ``\\xff``; holds open a file named with it too
``zombie``      exited, never reaped (until teardown), with a hostile comm
``busy``        spins a CPU (so it is in the top-CPU list) with a hostile comm
``long_arg``    one argument of 128 KiB (the kernel's limit per argument), a secret after it
``many_args``   10,000 arguments, a secret in the middle
``secrets``     ``--password=S``, ``--token S``, a URL with ``user:S@``, ``Bearer S``
``long_name``   comm of 15 characters and an argv[0] of 300 unbroken ones: psutil extends
                the name from argv[0], so the *name* is 300 characters; an unbroken
                3,000-character argument (layout tests; spins with ``long_name_busy``)
==============  ========================================================================

plus, when the test runs as root (``mount=True``), a 1 MiB ext2 image loop-mounted at a mount
point named with invalid UTF-8, an escape, U+202E and 200 unbroken characters (``mount_point``,
bytes; None and ``mount_skipped`` says why when mounting is not possible), and ``log_path``,
a log file of hostile lines: HTML ``<script>``, ANSI and OSC escapes, invalid UTF-8, NUL,
C1 controls with U+0085, the bidi override U+202E, and one 20,000-character unbroken error line. Each secret is random per run (``secrets``): a test asserts none appears anywhere.

Everything is real (real /proc, real psutil on the other side); nothing is mocked.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets as _secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Bytes no decoder can take and characters a terminal or a renderer would act on.
BAD = b"\xff\xfe"  # never valid UTF-8
ESC = b"\x1b[31m\x1b]0;owned\x07"  # an SGR colour and an OSC window-title sequence
NEL = "\u0085".encode()  # C1 NEL, a line break to some renderers
RLO = "\u202e".encode()  # right-to-left override: "Trojan Source"
# comm is 15 bytes at most (16 with the NUL).
HOSTILE_COMM = b"h" + BAD[:1] + b"\x1b[2J" + RLO + NEL + b"z"  # 12 bytes
assert len(HOSTILE_COMM) <= 15
LONG_ARG = 128 * 1024 - 1  # MAX_ARG_STRLEN is 128 KiB including the NUL
MANY_ARGS = 10_000
LONG_NAME = 300
TICK_CODE_TIMEOUT = 3600  # seconds a child lives at most if teardown never runs (killed test run)

# The child: configured by a JSON spec in its environment (not its argv, which is the test's
# subject). Sets its cwd and comm, opens a file, then sleeps, spins or exits.
CHILD = r"""
import ctypes, json, os, sys, time
spec = json.loads(os.environ.pop("HOSTILE_SPEC"))
if spec.get("cwd"):
    os.chdir(bytes.fromhex(spec["cwd"]))
held = open(bytes.fromhex(spec["open"]), "ab") if spec.get("open") else None
if spec.get("comm"):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(15, ctypes.c_char_p(bytes.fromhex(spec["comm"])), 0, 0, 0) != 0:  # PR_SET_NAME
        sys.exit("prctl failed: %d" % ctypes.get_errno())
sys.stdout.write("ready\n"); sys.stdout.flush()
end = time.monotonic() + spec["lifetime"]
if spec["mode"] == "exit":
    os._exit(0)
elif spec["mode"] == "busy":
    while time.monotonic() < end:
        pass
else:
    time.sleep(spec["lifetime"])
"""


def hostile_log_lines() -> list[bytes]:
    """The hostile log file's lines (bytes, no newline)."""
    return [
        b"Nov 26 11:32:01 web1 app[1]: error: <script>alert(1)</script> <img src=x onerror=alert(2)>",
        b"Nov 26 11:32:02 web1 app[1]: error: " + ESC + b"red" + b"\x1b[0m and \x1b]8;;http://evil/\x07link",
        b"Nov 26 11:32:03 web1 app[1]: error: invalid " + BAD + b" utf-8 \xc3(",
        b"Nov 26 11:32:04 web1 app[1]: error: nul \x00 bell \x07 backspace \x08 del \x7f",
        b"Nov 26 11:32:05 web1 app[1]: error: c1 " + "\u0085\u009b31m\u0090".encode() + b" next",
        b"Nov 26 11:32:06 web1 app[1]: error: bidi " + RLO + b"gnp.exe" + "\u2066\u200f".encode(),
        b"Nov 26 11:32:07 web1 app[1]: error: " + b"W" * 20_000,  # one unbroken 20,000-char word
        b"Nov 26 11:32:08 web1 app[1]: error: lone surrogate escape \\udcff and \\u202e typed literally",
    ]


@dataclass
class HostileHost:
    dir: Path
    log_path: Path
    secrets: list[str]
    pids: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    mount_point: bytes | None = None
    mount_skipped: str | None = None

    def all_pids(self) -> list[int]:
        return sorted(self.pids.values())

    def append_log(self, *lines: bytes) -> None:
        """Write more hostile lines (a follower or the logs area sees only what comes later)."""
        with open(self.log_path, "ab") as f:
            f.write(b"".join(line + b"\n" for line in lines))

    def start(self, role: str, argv: list[bytes], mode: str = "sleep", comm: bytes | None = None,
              cwd: bytes | None = None, open_path: bytes | None = None) -> int:
        """One child: argv exactly as given (bytes), argv[0] included."""
        spec = {"mode": mode, "lifetime": TICK_CODE_TIMEOUT, "comm": comm.hex() if comm else None,
                "cwd": cwd.hex() if cwd else None, "open": open_path.hex() if open_path else None}
        env = {**os.environ, "HOSTILE_SPEC": json.dumps(spec)}
        proc = subprocess.Popen(argv, executable=sys.executable, env=env, stdout=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs[role] = proc
        self.pids[role] = proc.pid
        line = proc.stdout.readline()  # the child says "ready" once its name and cwd are set
        if line != b"ready\n":
            raise RuntimeError(f"hostile child {role} did not start: {line!r} rc={proc.poll()}")
        return proc.pid

    def mount(self) -> None:
        """A real filesystem (ext2 in a loop-mounted file) at a hostile mount point: the disks
        collector lists it as a filesystem of its own and calls statvfs on its raw path."""
        if os.geteuid() != 0:
            self.mount_skipped = "mounting needs root"
            return
        image = self.dir / "fs.img"
        target = bytes(self.dir) + b"/mnt-" + BAD + ESC + RLO + b"M" * 200
        os.mkdir(target)
        made = subprocess.run(["mkfs.ext2", "-q", "-F", str(image), "1024"], capture_output=True)
        mounted = made.returncode == 0 and subprocess.run(
            [b"mount", b"-o", b"loop", bytes(image), target], capture_output=True).returncode == 0
        if mounted:
            self.mount_point = target
        else:
            self.mount_skipped = "mkfs.ext2 or mount -o loop failed (no loop devices here?)"

    def close(self) -> None:
        if self.mount_point is not None:
            subprocess.run([b"umount", b"-l", self.mount_point], capture_output=True)  # frees the loop device
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)  # reaps the zombie too
            if proc.stdout:
                proc.stdout.close()


def _code(role: str) -> list[bytes]:
    """``-c CHILD`` plus a marker argument naming the role (for a human reading ps)."""
    return [b"-c", CHILD.encode(), b"hostile-" + role.encode()]


def _wait_state(pid: int, state: str, timeout: float = 10.0) -> None:
    """Until /proc/PID/stat says ``state`` (e.g. Z): the zombie must be one before tests look."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        if stat[stat.rindex(b")") + 2:][:1] == state.encode():
            return
        time.sleep(0.02)
    raise RuntimeError(f"process {pid} did not reach state {state}")


@contextlib.contextmanager
def hostile_host(long_arg: int = LONG_ARG, many_args: int = MANY_ARGS, roles: set[str] | None = None,
                 long_name_busy: bool = False, mount: bool = False) -> Iterator[HostileHost]:
    """Start the hostile processes (all, or only ``roles``) and write the log; undo it all after.

    ``long_name_busy`` makes the long-named process spin too, so it is in the top-CPU list (a
    layout test); off by default: one spinning process is enough load on a shared machine."""
    tmp = tempfile.TemporaryDirectory(prefix="hostile-")
    base = Path(tmp.name)
    secret = [_secrets.token_hex(12) for _ in range(7)]
    host = HostileHost(dir=base, log_path=base / "hostile.log", secrets=secret)
    want = (lambda r: roles is None or r in roles)
    try:
        host.append_log(*hostile_log_lines())
        bad_dir = bytes(base) + b"/dir-" + BAD + ESC + RLO
        os.mkdir(bad_dir)
        bad_file = bad_dir + b"/file-" + BAD + NEL + b".log"
        py = b"py" + BAD + ESC + RLO + NEL  # argv[0]: what ps and psutil's cmdline show first
        if want("comm"):
            host.start("comm", [py, *_code("comm")], comm=HOSTILE_COMM)
        if want("argv"):
            host.start("argv", [py, *_code("argv"), b"arg-" + BAD, ESC + b"x", NEL + RLO + b"y",
                                b"--api-key=" + secret[0].encode() + BAD, b"tab\tnl\ncr\r"], comm=b"argv" + BAD)
        if want("cwd"):
            host.start("cwd", [py, *_code("cwd")], comm=b"cwd" + BAD, cwd=bad_dir, open_path=bad_file)
        if want("zombie"):
            host.start("zombie", [py, *_code("zombie")], mode="exit", comm=b"zomb" + BAD + RLO)
            _wait_state(host.pids["zombie"], "Z")
        if want("busy"):
            host.start("busy", [py, *_code("busy")], mode="busy", comm=HOSTILE_COMM)
        if want("long_arg"):
            host.start("long_arg", [b"python3", *_code("long_arg"), b"A" * long_arg,
                                    b"--token=" + secret[1].encode()])
        if want("many_args"):
            args = [b"a" + BAD] * many_args
            args[many_args // 2] = b"--password=" + secret[2].encode()
            host.start("many_args", [b"python3", *_code("many_args"), *args])
        if want("secrets"):
            host.start("secrets", [b"python3", *_code("secrets"),
                                   b"--password=" + secret[3].encode(),
                                   b"--token", secret[4].encode(),
                                   b"postgres://app:" + secret[5].encode() + b"@db/app",
                                   b"Authorization: Bearer " + secret[6].encode()])
        if want("long_name"):
            # comm is 15 characters; psutil sees a full comm and takes the name from argv[0]'s
            # base name when that starts with it: a 300-character unbroken process name.
            name = b"L" * LONG_NAME
            host.start("long_name", [b"/tmp/" + name, *_code("long_name"), b"Q" * 3000],
                       mode="busy" if long_name_busy else "sleep", comm=name[:15])
        if mount:
            host.mount()
        yield host
    finally:
        host.close()
        tmp.cleanup()
