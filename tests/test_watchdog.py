"""systemd's notify protocol (monitor/watchdog.py): READY=1 once sampling, WATCHDOG=1 after each
published tick, STOPPING=1 at shutdown; pings stop when ticks stop being published.

A real unix datagram socket stands in for systemd's $NOTIFY_SOCKET, and a real console process
(main.py) talks to it; the stall is injected by tests/faulty_console.py.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from monitor.watchdog import Notifier
from tests.conftest import ARTIFACTS, ROOT, TEST_TOKEN, free_port, stop_process


class FakeSystemd:
    """The receiving end of $NOTIFY_SOCKET: a datagram socket; ``address`` is what to export."""

    def __init__(self, path=None) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if path is None:  # Linux's abstract namespace, written "@name" in NOTIFY_SOCKET
            name = f"server-monitor-test-{uuid.uuid4().hex}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.sock.bind(str(path))
            self.address = str(path)
        self.messages: list[tuple[float, str]] = []

    def read(self, seconds: float) -> list[str]:
        """Everything received within ``seconds`` (also kept in ``messages`` with its time)."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096).decode()
            except TimeoutError:
                break
            self.messages.append((time.monotonic(), data))
            got.append(data)
        return got

    def wait_for(self, message: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(message in m.split("\n") for m in self.read(min(0.2, deadline - time.monotonic()))):
                return True
        return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def systemd():
    s = FakeSystemd()
    yield s
    s.close()


def start_console(systemd: FakeSystemd | None, tmp_path, script: str = "main.py", **env):
    """A real console process (``script``: main.py or tests/faulty_console.py), 0.2 s ticks."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"watchdog-{port}.log", "ab")
    notify = {"NOTIFY_SOCKET": systemd.address, "WATCHDOG_USEC": "2000000"} if systemd else {}
    full_env = {**os.environ, **notify, "SERVER_MONITOR_TICK": "0.2", "SERVER_MONITOR_TOKEN": TEST_TOKEN,
                "SERVER_MONITOR_DATA_DIR": str(tmp_path), **env}
    proc = subprocess.Popen([sys.executable, script, "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"console did not answer /healthz: see {log.name}")


stop = stop_process


def test_notify_reaches_a_socket_by_path_and_in_the_abstract_namespace(tmp_path):
    for fake in (FakeSystemd(tmp_path / "notify.sock"), FakeSystemd()):
        try:
            n = Notifier(fake.address, watchdog_usec=20_000_000)
            assert n.ready() and n.ping() and not n.ping()  # pings are spaced (a quarter period)
            assert n.stopping()
            assert fake.read(0.5) == ["READY=1\nSTATUS=sampling", "WATCHDOG=1", "STOPPING=1"]
        finally:
            fake.close()


def test_without_notify_socket_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = Notifier.from_env()
    assert not n.enabled and not n.ready() and not n.ping() and not n.stopping()


def test_from_env_takes_the_variables_away_from_children(monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", "@x")
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    n = Notifier.from_env()
    assert n.enabled and n.ping_every == 0.5 and "NOTIFY_SOCKET" not in os.environ
    monkeypatch.setenv("NOTIFY_SOCKET", "@x")
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    monkeypatch.setenv("WATCHDOG_PID", "1")  # the watchdog is someone else's
    assert Notifier.from_env().ping_every == 1.0


def test_a_real_console_says_ready_then_pings_then_stopping(systemd, tmp_path):
    proc, url = start_console(systemd, tmp_path)
    try:
        assert systemd.wait_for("READY=1", 20), systemd.messages
        ready_at = next(t for t, m in systemd.messages if "READY=1" in m)
        assert httpx.get(url + "/healthz", timeout=2).status_code == 200  # listening when ready
        systemd.read(2.1)
        pings = [t for t, m in systemd.messages if m == "WATCHDOG=1" and t > ready_at]
        assert len(pings) >= 3  # WATCHDOG_USEC=2 s: one ping every 0.5 s while ticks publish
        assert max(b - a for a, b in zip(pings, pings[1:])) < 1.0
    finally:
        stop(proc)
    systemd.read(1.0)
    assert [m for _, m in systemd.messages][-1] == "STOPPING=1"


def test_pings_stop_when_the_sampler_stalls(systemd, tmp_path):
    stall = tmp_path / "stall"
    proc, url = start_console(systemd, tmp_path, script="tests/faulty_console.py",
                              SERVER_MONITOR_TEST_STALL=str(stall))
    try:
        assert systemd.wait_for("READY=1", 20), systemd.messages
        assert systemd.wait_for("WATCHDOG=1", 3)
        seq = _seq(url)
        stall.touch()
        systemd.read(0.5)  # a ping already on its way
        assert [m for m in systemd.read(3.0) if m == "WATCHDOG=1"] == []  # 1.5 watchdog periods
        # The process is alive and answering: only the ticks stopped, and with them the pings
        # (so systemd would restart it, where a liveness probe would not notice).
        r = httpx.get(url + "/healthz", timeout=2)
        assert r.status_code == 200 and _seq(url) <= seq + 3  # the one or two ticks before the stall
    finally:
        stop(proc)


def _seq(url: str) -> int:
    r = httpx.get(url + "/api/health", timeout=2)
    return r.json()["seq"]
