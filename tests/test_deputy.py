"""The console is no confused deputy and no DNS-rebinding target, tried on a real server:

- another local user (uid 65534 through ``setpriv``) who may not read a 0600 log, nor other
  users' command lines, gets neither through the console without the token;
- a request naming another Host (a rebinding page's name resolving to 127.0.0.1 or ::1) is
  refused with a message, on both loopback addresses; configured names are served.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from tests.conftest import IN_CI, TEST_TOKEN, LiveServer, free_port

NOBODY = 65534


def _raw_get(host: str, port: int, path: str, host_header: str) -> tuple[int, str]:
    """One HTTP/1.1 request with exactly this Host header (httpx would fix it up)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.settimeout(10)
        s.connect((host, port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_other_host_names_are_refused_on_both_loopbacks(spawn_server):
    env = {"SERVER_MONITOR_ALLOWED_HOSTS": '["monitor.example.com"]'}
    servers = [("127.0.0.1", spawn_server(env=env))]
    if _has_ipv6_loopback():
        port = free_port()
        v6 = LiveServer(url=f"http://[::1]:{port}", port=port, extra_args=["--host", "::1"],
                        env={**os.environ, "SERVER_MONITOR_TOKEN": TEST_TOKEN, **env})
        v6.start()
        servers.append(("::1", v6))
    elif IN_CI:
        pytest.fail("no IPv6 loopback on this machine")
    try:
        for addr, server in servers:
            for path in ("/api/cpu", "/dashboard", "/healthz"):
                status, body = _raw_get(addr, server.port, path, "evil.example")
                assert status == 400, (addr, path, status)
                assert "evil.example" in body and "SERVER_MONITOR_ALLOWED_HOSTS" in body
                status, _ = _raw_get(addr, server.port, path, f"evil.example:{server.port}")
                assert status == 400
            for good in ("127.0.0.1", f"127.0.0.1:{server.port}", f"[::1]:{server.port}",
                         "localhost", f"localhost:{server.port}", "monitor.example.com",
                         "MONITOR.example.com:443"):
                status, _ = _raw_get(addr, server.port, "/healthz", good)
                assert status == 200, (addr, good, status)
    finally:
        for _, server in servers[1:]:
            server.stop()


@pytest.fixture
def private_log(tmp_path):
    """A log only root may read (like /var/log/secure), in a directory others may enter."""
    tmp_path.chmod(0o755)
    log = tmp_path / "secure"
    log.write_text("Dec  1 12:00:00 host sshd[1]: private-log-line-4b1d Accepted password\n")
    log.chmod(0o600)
    return log


def _as_nobody(*argv: str) -> subprocess.CompletedProcess:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None or shutil.which("curl") is None:
        if IN_CI:
            pytest.fail("this test needs root, setpriv and curl (.ci/run runs as root and installs them)")
        pytest.skip("needs root, setpriv and curl")
    return subprocess.run([setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           *argv], capture_output=True, text=True, timeout=30)


def test_another_user_reads_nothing_the_os_refuses_them(spawn_server, private_log):
    marker = "deputy-cmdline-secret-9c2e"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    try:
        server = spawn_server(env={"SERVER_MONITOR_LOG_SOURCES": json.dumps(
            [{"name": "secure", "kind": "file", "path": str(private_log)}])})
        # The premise: the operating system refuses this user the file.
        refused = _as_nobody("cat", str(private_log))
        assert refused.returncode != 0 and "Permission denied" in refused.stderr
        for path in ("/api/logs?source=secure", "/logs?source=secure", "/api/processes",
                     f"/api/processes/{other.pid}", f"/processes/{other.pid}", "/api/snapshot",
                     "/metrics", "/api/events"):
            r = _as_nobody("curl", "-s", "-w", "\n%{http_code}", server.url + path)
            body, _, status = r.stdout.rpartition("\n")
            assert status in ("401", "303"), (path, status)
            assert "private-log-line-4b1d" not in body and marker not in body, path
        # What the display scope does give them names no command line and no log text.
        for path in ("/dashboard", "/api/health", "/wall"):
            r = _as_nobody("curl", "-s", "-w", "\n%{http_code}", server.url + path)
            body, _, status = r.stdout.rpartition("\n")
            assert status in ("200", "503"), (path, status)
            assert marker not in body and "private-log-line-4b1d" not in body
        # With the token (which only root can read in a real install) the same request works.
        assert "private-log-line-4b1d" in server.get("/api/logs?source=secure").text
    finally:
        other.kill()
        other.wait(5)
