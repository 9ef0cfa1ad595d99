"""HTTPS behind nginx, with the shipped deploy/nginx.conf: pages, the API and SSE through the proxy.

The test runs Debian's nginx as a throwaway instance on loopback: the shipped config with only
ports, certificate paths and log paths swapped for the test's own, and without the IPv6 listens.
Live updates through the proxy must arrive as they happen (proxy buffering off for /stream).
"""
from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, ROOT, free_port
from tests.test_tls import self_signed

TOKEN = "nginx-test-token-0123456789abcdef"


@pytest.fixture
def proxied(tmp_path, spawn_server):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        if IN_CI:
            pytest.fail("nginx not installed: .ci/run must install it")
        pytest.skip("nginx not installed (apt-get install nginx)")
    console = spawn_server(env={"SERVER_MONITOR_TOKEN": TOKEN})
    cert, key = self_signed(tmp_path)
    http_port, https_port = free_port(), free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = (site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{console.port};")
                .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
                .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
                .replace("/etc/pki/tls/certs/monitor.example.com.crt", str(cert))
                .replace("/etc/pki/tls/private/monitor.example.com.key", str(key))
                .replace("/var/log/nginx/server-monitor.access.log", str(tmp_path / "access.log")))
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    assert f"127.0.0.1:{console.port}" in site and str(cert) in site  # the shipped shape held
    conf = tmp_path / "nginx.conf"
    temp = tmp_path / "temp"
    temp.mkdir()
    conf.write_text(f"""
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
""")
    os.chmod(tmp_path, 0o755)  # nginx workers (user nobody) read nothing here but must traverse
    check = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path)],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"https://127.0.0.1:{https_port}"
    ctx = ssl.create_default_context(cafile=str(cert))
    ctx.check_hostname = False  # the certificate names "localhost"; we dial the address
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/healthz", verify=ctx, timeout=2)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield base, ctx, http_port
    proc.terminate()
    proc.wait(10)


def test_api_and_pages_through_nginx_need_the_token(proxied):
    base, ctx, _ = proxied
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(base + "/api/cpu", verify=ctx).status_code == 401
    r = httpx.get(base + "/api/cpu", verify=ctx, headers=auth)
    assert r.status_code == 200 and r.json()["cpu"]["count"] >= 1
    page = httpx.get(base + "/dashboard", verify=ctx, auth=("wall", TOKEN))
    assert page.status_code == 200 and 'sse-connect="/stream' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "max-age" in page.headers["strict-transport-security"]


def test_sse_arrives_tick_by_tick_through_the_proxy(proxied):
    base, ctx, _ = proxied
    seen: list[tuple[float, int]] = []
    t0 = time.monotonic()
    with httpx.stream("GET", base + "/stream", verify=ctx, timeout=15,
                      headers={"Authorization": f"Bearer {TOKEN}"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("id: "):
                seen.append((time.monotonic() - t0, int(line[4:])))
                if len(seen) == 3 or time.monotonic() - t0 > 12:
                    break
    assert len(seen) == 3, seen
    # One by one, about a tick apart, not held back and delivered together (proxy_buffering off
    # in the config, and the console's X-Accel-Buffering: no). Generous bounds: a behaviour
    # check on a busy machine, not a benchmark.
    assert seen[2][0] - seen[0][0] > 1.0, seen
    assert [s for _, s in seen] == sorted({s for _, s in seen})


def test_plain_http_redirects_to_https(proxied):
    _, _, http_port = proxied
    r = httpx.get(f"http://127.0.0.1:{http_port}/dashboard", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"].startswith("https://")
