"""A client that stops reading is dropped and its socket really closed (views/stream.py
StreamResponse): before, uvicorn's close() waited forever for the unsent bytes to drain and the
sockets stayed open (19 of 20, 60 s later)."""
from __future__ import annotations

import socket
import time

import psutil


def _established(pid: int, port: int) -> int:
    return sum(1 for c in psutil.Process(pid).net_connections("tcp")
               if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED)


def test_clients_that_stop_reading_are_closed(spawn_server):
    # A fast tick fills the (bounded) buffers sooner; each client asks for the stream and then
    # never reads, with a tiny receive buffer of its own.
    server = spawn_server(env={"SERVER_MONITOR_TICK": "0.1"})
    stalled = []
    for _ in range(5):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", server.port))
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        stalled.append(s)
    try:
        deadline = time.monotonic() + 90
        while _established(server.proc.pid, server.port) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _established(server.proc.pid, server.port) == 5
        while _established(server.proc.pid, server.port) and time.monotonic() < deadline:
            time.sleep(1)
        assert _established(server.proc.pid, server.port) == 0, "stalled streams still open"
        # A reading client is unaffected, and the server says what it did.
        assert server.get("/api/cpu").status_code == 200
        assert "it stopped reading" in server.log_path.read_text()
    finally:
        for s in stalled:
            s.close()
