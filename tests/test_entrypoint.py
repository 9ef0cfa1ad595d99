"""The two ways to start the console, and settings from the environment."""
from __future__ import annotations

import email.utils
import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import ROOT, free_port


def wait_healthy(url: str, proc: subprocess.Popen, limit: float = 20) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited"
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail("server did not become healthy")


@pytest.mark.parametrize("how", ["main.py", "uvicorn"])
def test_starts_and_serves(how):
    port = free_port()
    env = {**os.environ, "SERVER_MONITOR_TICK": "0.5"}
    if how == "main.py":
        cmd = [sys.executable, "main.py", "--host", "127.0.0.1", "--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        a = httpx.get(url + "/api/cpu").json()["seq"]
        time.sleep(1.2)
        assert httpx.get(url + "/api/cpu").json()["seq"] >= a + 2  # SERVER_MONITOR_TICK=0.5 honoured
    finally:
        proc.terminate()
        proc.wait(10)


def test_port_from_environment_and_loopback_default():
    port = free_port()
    env = {**os.environ, "SERVER_MONITOR_PORT": str(port)}
    env.pop("SERVER_MONITOR_HOST", None)
    proc = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        import psutil
        listening = {c.laddr.ip for c in psutil.Process(proc.pid).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}  # safe by default: loopback only
    finally:
        proc.terminate()
        proc.wait(10)


def test_bad_setting_is_a_clear_error():
    env = {**os.environ, "SERVER_MONITOR_TICK": "fast"}
    r = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0 and "tick" in r.stderr


def test_the_server_loop_wakes_once_a_second_and_still_keeps_the_date_header(spawn_server):
    """main.ConsoleServer looks at its exit flag once a second instead of ten times; the Date
    header it keeps must still follow the clock (a signal ending it: tests/test_signals.py)."""
    server = spawn_server()
    first = email.utils.parsedate_to_datetime(httpx.get(server.url + "/healthz").headers["date"])
    time.sleep(2.2)
    later = email.utils.parsedate_to_datetime(httpx.get(server.url + "/healthz").headers["date"])
    assert 1 <= (later - first).total_seconds() <= 4
