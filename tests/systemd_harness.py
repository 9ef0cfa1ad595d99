"""A real systemd for the services tests: a user manager under its own D-Bus, boxed in.

Why it is built this way (issue 14, "Testing against a real systemd"): the CI machine has
/lib/systemd/systemd but PID 1 is not systemd, and a *system* manager booted over the host's
filesystem runs tmpfiles and wipes /tmp, then starts every installed service on the host's
network. A *user* manager (`systemd --user`) does neither by itself, and is enough for what the
services area reads (units, states, NRestarts, Result, sockets, timers, signals). It is still
boxed in so it cannot touch the host:

- it reads units only from our own directory (SYSTEMD_UNIT_PATH replaces the search path, so no
  installed user unit - tmpfiles-setup/clean, gpg-agent, ... - exists for it), and runs no
  generators (SYSTEMD_GENERATOR_PATH / SYSTEMD_ENVIRONMENT_GENERATOR_PATH point at an empty dir);
- it runs as an unprivileged uid (nobody, via setpriv): it cannot delete what it does not own;
- it lives in new mount and network namespaces (unshare; mounts propagate in as slave, so it
  never holds a copy of a mount the host, or another test, has unmounted); the only change there
  is a tmpfs over /run/systemd holding an empty /run/systemd/system, which is how systemd decides "booted with
  systemd" (it refuses to start a user instance otherwise); the host's /run is untouched, and its
  units have only a loopback that is down - nothing they do reaches the host's network;
- its cgroups are a delegated subtree we create (chowned to the uid) in both the name=systemd
  and the unified hierarchies, so that it manages only that subtree; teardown kills every pid
  left in it and removes it;
- D-Bus: the manager attaches to a bus only once its dbus.socket and dbus.service units run, so
  we give it both: dbus-daemon socket-activated on $XDG_RUNTIME_DIR/bus with our own config
  (no service directories: nothing can be bus-activated). Tests (root) connect to that address.

Everything is bounded in time (start waits at most START_TIMEOUT s) and teardown leaves no
process, cgroup or file behind. Needs root (cgroup delegation, namespaces).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

SYSTEMD = "/lib/systemd/systemd"
UID = 65534  # nobody
START_TIMEOUT = 20.0
CGROUP_TREES = (Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified"))

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/nonexistent</listen>
  <auth>EXTERNAL</auth>
  <limit name="max_match_rules_per_connection">4096</limit>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

BASE_UNITS = {
    "default.target": "[Unit]\nDescription=harness default\nWants=dbus.socket dbus.service\n",
    # what units' default dependencies name (basic.target, sockets.target, ...) must exist
    **{f"{t}.target": f"[Unit]\nDescription=harness {t}\n"
       for t in ("basic", "sockets", "timers", "paths", "shutdown", "exit")},
    "dbus.socket": "[Unit]\nDescription=harness bus socket\n\n[Socket]\nListenStream=%t/bus\n",
    "dbus.service": (
        "[Unit]\nDescription=harness bus\nRequires=dbus.socket\n\n[Service]\nType=notify\n"
        "NotifyAccess=main\nExecStart=/usr/bin/dbus-daemon --config-file={conf} "
        "--address=systemd: --nofork --nopidfile --systemd-activation --syslog-only\n"
    ),
}

BOOT = """set -e
echo $$ > "$CG1/cgroup.procs"
echo $$ > "$CG2/cgroup.procs"
mount -t tmpfs -o mode=755,size=64m harness-run-systemd /run/systemd
mkdir /run/systemd/system
exec setpriv --reuid={uid} --regid={uid} --clear-groups env -i HOME="$H/home" \
 XDG_RUNTIME_DIR="$H/run" SYSTEMD_UNIT_PATH="$H/units" SYSTEMD_GENERATOR_PATH="$H/empty" \
 SYSTEMD_ENVIRONMENT_GENERATOR_PATH="$H/empty" PATH=/usr/bin:/bin \
 {systemd} --user --log-target=console --log-level=notice
"""


ROOT = Path(__file__).resolve().parent.parent
GUARD = """import sys
sys.stdin.buffer.read()  # EOF: stop() closed the pipe, or its process died
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from tests.systemd_harness import Harness
if Path(sys.argv[2]).exists():
    Harness.attach(sys.argv[2], int(sys.argv[3])).stop()
"""


def _alive(pid: int, proc: subprocess.Popen | None = None) -> bool:
    """Whether ``pid`` still runs (a zombie does not); reaps it when it is our child."""
    if proc is not None:
        return proc.poll() is None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _remove_cgroup(cg: Path) -> None:
    """rmdir a cgroup subtree, deepest first. The manager may still be removing its own
    directories (gone under us: fine) or a dying task may keep one busy a moment (retried)."""
    for _ in range(100):
        busy = False
        for top, _, _ in os.walk(cg, topdown=False):  # os.walk skips what vanished
            try:
                os.rmdir(top)
            except FileNotFoundError:
                pass
            except OSError:  # EBUSY: a task not yet gone
                busy = True
        if not busy and not cg.exists():
            return
        time.sleep(0.05)
    raise RuntimeError(f"could not remove the cgroup {cg}")


def usable() -> str | None:
    """Why the harness cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (cgroup delegation, mount and network namespaces)"
    for need in (SYSTEMD, shutil.which("dbus-daemon"), shutil.which("unshare"),
                 shutil.which("setpriv")):
        if not need or not os.path.exists(need):
            return f"missing {need or 'dbus-daemon/unshare/setpriv'}"
    if not all(t.is_dir() for t in CGROUP_TREES):
        return "no name=systemd and unified cgroup hierarchies at /sys/fs/cgroup"
    return None


class Harness:
    def __init__(self, parent: Path | None = None):
        self._paths(Path(tempfile.mkdtemp(prefix="sm-systemd-", dir=parent)))
        self.proc: subprocess.Popen | None = None
        self.pid: int | None = None
        self._guard_w: int | None = None

    def _paths(self, directory: Path) -> None:
        self.dir = directory
        self.units = self.dir / "units"
        self.runtime = self.dir / "run"
        self.address = f"unix:path={self.runtime}/bus"
        self.cgroups = [t / self.dir.name for t in CGROUP_TREES]
        self.log = self.dir / "systemd.log"

    # -- lifecycle --
    def start(self) -> Harness:
        for sub in ("units", "run", "home", "empty"):
            (self.dir / sub).mkdir()
        (self.dir / "bus.conf").write_text(BUS_CONF)
        for name, text in BASE_UNITS.items():
            (self.units / name).write_text(text.format(conf=self.dir / "bus.conf"))
        os.chmod(self.runtime, 0o700)
        for p in [self.dir, *(self.dir / s for s in ("units", "run", "home", "empty"))]:
            os.chown(p, UID, UID)
        os.chmod(self.dir, 0o755)
        for cg in self.cgroups:  # delegate: the manager may create and move within it
            cg.mkdir()
            for f in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads", "tasks"):
                if (cg / f).exists():
                    os.chown(cg / f, UID, UID)
        env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "H": str(self.dir),
               "CG1": str(self.cgroups[0]), "CG2": str(self.cgroups[1])}
        script = BOOT.format(uid=UID, systemd=SYSTEMD)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "slave", "--net", "sh", "-c", script],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        self.pid = self.proc.pid
        # The guardian: a process that waits for EOF on a pipe only we hold, then tears down. If
        # this process dies without stop() (SIGKILL, a crash), the manager and units still go.
        r, self._guard_w = os.pipe()
        self._guard = subprocess.Popen(
            [sys.executable, "-c", GUARD, str(ROOT), str(self.dir), str(self.pid)],
            stdin=r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(r)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.call("GetUnit", "s", "dbus.service", quiet=True):
                return self
            time.sleep(0.1)
        out = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"systemd --user did not come up on {self.address}: {out}")

    def stop(self) -> None:
        if self.pid and _alive(self.pid):
            # First the manager stops its units itself (all conflict with shutdown.target) and
            # reaps their processes: a process we killed would be orphaned to the host's PID 1.
            self.call("StartUnit", "ss", "shutdown.target", "replace-irreversibly", quiet=True)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and set(self.pids()) - {self.pid}:
                time.sleep(0.05)
            # SIGRTMIN+24: a user manager exits at once (systemd(1), "Signals")
            os.kill(self.pid, signal.SIGRTMIN + 24)
            deadline = time.monotonic() + 5
            while _alive(self.pid, self.proc) and time.monotonic() < deadline:
                time.sleep(0.05)
        for _ in range(100):  # whatever its units left running dies with the subtree
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        if self.proc is not None:
            self.proc.wait(5)
        for cg in self.cgroups:
            _remove_cgroup(cg)
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._guard_w is not None:  # the guardian finds nothing left and exits
            os.close(self._guard_w)
            self._guard_w = None
            self._guard.wait(10)

    @classmethod
    def attach(cls, directory: str, pid: int) -> Harness:
        """The harness in ``directory`` whose manager is ``pid`` (the guardian's view of it)."""
        h = cls.__new__(cls)
        h._paths(Path(directory))
        h.pid, h.proc, h._guard_w = pid, None, None
        return h

    def pids(self) -> list[int]:
        """Every pid in the subtree. os.walk, not Path.rglob: the manager removes its cgroups
        while we look, and os.walk skips a directory that vanished."""
        out = []
        for cg in self.cgroups:
            for top, _, files in os.walk(cg):
                if "cgroup.procs" in files:
                    try:
                        with open(os.path.join(top, "cgroup.procs")) as f:
                            out += [int(x) for x in f.read().split()]
                    except OSError:
                        pass
        return out

    def __enter__(self) -> Harness:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- units --
    def write_unit(self, name: str, text: str) -> Path:
        path = self.units / name
        path.write_text(text)
        os.chown(path, UID, UID)
        return path

    def busctl(self, *args: str, quiet: bool = False) -> str | None:
        done = subprocess.run(["busctl", f"--address={self.address}", *args],
                              check=False, capture_output=True, text=True, timeout=10)
        if done.returncode != 0:
            if quiet:
                return None
            raise RuntimeError(f"busctl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def call(self, method: str, sig: str = "", *args: str, quiet: bool = False) -> str | None:
        return self.busctl("call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                           "org.freedesktop.systemd1.Manager", method,
                           *([sig, *args] if sig else []), quiet=quiet)

    def reload(self) -> None:
        self.call("Reload")

    def start_unit(self, name: str) -> None:
        self.call("StartUnit", "ss", name, "replace")

    def stop_unit(self, name: str) -> None:
        self.call("StopUnit", "ss", name, "replace")

    def prop(self, unit: str, iface: str, name: str) -> str:
        path = self.call("GetUnit", "s", unit).split()[1].strip('"')
        out = self.busctl("get-property", "org.freedesktop.systemd1", path,
                          f"org.freedesktop.systemd1.{iface}", name)
        return out.split(None, 1)[1].strip().strip('"')

    def wait_for(self, unit: str, iface: str, name: str, want, timeout: float = 15.0) -> str:
        """Poll (bounded) until the property satisfies want(value)."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.prop(unit, iface, name)
                if want(value):
                    return value
            except RuntimeError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{unit} {name} still {value!r} after {timeout}s")


# Test units of the services tests: each shows one thing the area must see.
TEST_UNITS = {
    # fails at once: failed / exit-code
    "sm-fail.service": "[Unit]\nDescription=fails on purpose\n[Service]\nType=oneshot\nExecStart=/bin/false\n",
    # crash loop: exits 3 after 0.3 s, restarted after 0.2 s, never rate-limited
    "sm-loop.service": ("[Unit]\nDescription=crash loop\nStartLimitIntervalSec=0\n[Service]\n"
                        "ExecStart=/bin/sh -c 'sleep 0.3; exit 3'\nRestart=always\nRestartSec=0.2\n"),
    # burns one CPU for at most 20 s (the machine is shared): started by the test that needs it
    "sm-burn.service": ("[Unit]\nDescription=burns CPU\n[Service]\n"
                        "ExecStart=/usr/bin/timeout 20 /bin/sh -c 'while :; do :; done'\n"),
    # a listening socket (a unix path: the harness has no network) and its service
    "sm-echo.socket": "[Unit]\nDescription=echo socket\n[Socket]\nListenStream=%t/sm-echo.sock\n",
    "sm-echo.service": "[Unit]\nDescription=echo\n[Service]\nExecStart=/bin/cat\nStandardInput=socket\n",
    # a timer waiting an hour, and its service
    "sm-tick.timer": "[Unit]\nDescription=hourly tick\n[Timer]\nOnActiveSec=1h\n",
    "sm-tick.service": "[Unit]\nDescription=tick\n[Service]\nType=oneshot\nExecStart=/bin/true\n",
    # hostile host text in a description: markup and a terminal escape
    "sm-hostile.service": ("[Unit]\nDescription=<script>alert(1)</script> \x1b[31mred\n[Service]\n"
                           "Type=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"),
}


def harness_for_tests(units: dict[str, str] = TEST_UNITS, start: tuple[str, ...] = (
        "sm-fail.service", "sm-loop.service", "sm-echo.socket", "sm-tick.timer",
        "sm-hostile.service")):
    """A started harness with ``units`` loaded and ``start`` started, for a pytest fixture.
    Without root or the tools: skip, but fail under CI=true (scripts/test installs them)."""
    import pytest

    why = usable()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the systemd harness cannot run: {why}")
        pytest.skip(why)
    h = Harness().start()
    try:
        for name, text in units.items():
            h.write_unit(name, text)
        h.reload()
        for name in start:
            h.start_unit(name)
        h.wait_for("sm-fail.service", "Unit", "ActiveState", lambda v: v == "failed")
        return h
    except BaseException:
        h.stop()
        raise


@pytest.fixture(scope="module")
def systemd():
    """The harness as a module's fixture (tests/test_services*.py import it)."""
    h = harness_for_tests()
    yield h
    h.stop()
