"""Helpers shared by the benchmarks: start a console (or a bare app) on loopback, wait for it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], health: str, env: dict | None = None,
          timeout: float = 20) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(health, timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server {args} did not come up")


def start_console(port: int, env: dict | None = None) -> subprocess.Popen:
    # Benchmark clients (wrk, httpx) send no token: the console opens everything to loopback, as
    # SERVER_MONITOR_ANONYMOUS=full does on a single-user machine. Access control costs the same
    # per request either way (one header look-up, a digest when a credential is presented).
    return start(["main.py", "--host", "127.0.0.1", "--port", str(port)],
                 f"http://127.0.0.1:{port}/healthz", {"SERVER_MONITOR_ANONYMOUS": "full", **(env or {})})


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
