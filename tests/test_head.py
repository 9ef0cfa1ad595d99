"""HEAD is answered on every GET route (views/head.py): same status and headers, no body; a HEAD
of a stream ends at once instead of streaming into the void."""
from __future__ import annotations

import socket
import time

from tests.test_auth import get_paths


def test_head_matches_get_on_every_route(make_client):
    c = make_client(tick=60)
    paths = [p for p in get_paths(c.app) if not p.endswith("/stream")]
    assert "/healthz" in paths and "/api/cpu" in paths and "/metrics" in paths
    for path in paths:
        get = c.get(path, follow_redirects=False)
        head = c.head(path, follow_redirects=False)
        assert head.status_code == get.status_code, (path, head.status_code, get.status_code)
        assert head.content == b"", path
        assert head.headers.get("content-type") == get.headers.get("content-type"), path
    assert c.head("/healthz").status_code == 200
    assert c.head("/no/such/page").status_code == 404


def test_head_of_a_stream_returns_at_once(live_server):
    for path in ("/stream", "/healthz"):
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as s:
            s.sendall(f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                assert chunk, "connection closed before the headers"
                data += chunk
            s.settimeout(3)  # the server sends nothing after the headers of a HEAD
            s.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            rest = s.recv(4096)
        assert data.split()[1] == b"200", data[:200]
        assert rest.startswith(b"HTTP/1.1 200"), rest[:200]  # the connection was free again
        assert time.monotonic() - t0 < 10
