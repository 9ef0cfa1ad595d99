"""A stream learns that main.py's server stops from ``views.stream.stopping`` (set by
``ConsoleServer.handle_exit``), not from sse-starlette's watcher, which wakes the loop twice a
second from the first stream until the process ends; under any other server (``uvicorn
main:app``) the library's watcher still ends the streams.

Each case runs a real server and a real client on one loop in a child process, so the library's
per-thread watcher state can be looked at where it lives."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CHILD = r"""
import asyncio, json, signal, socket, sys, tempfile, time
import httpx, uvicorn
import sse_starlette.sse as sse
import main
from monitor.collectors.memory import MemoryCollector
from monitor.settings import Settings

async def run(server_class):
    settings = Settings(data_dir=tempfile.mkdtemp(), anonymous="full", tick=0.2)
    sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
    config = uvicorn.Config(main.create_app(settings, [MemoryCollector()]), host="127.0.0.1",
                            port=port, loop="asyncio", log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=2)
    server = server_class(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    got = {"events": 0}
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", f"http://127.0.0.1:{port}/stream") as r:
            lines = r.aiter_lines()
            while got["events"] < 3:  # three ticks: the stream is live
                if (await lines.__anext__()).startswith("event: tick"):
                    got["events"] += 1
            got["watcher"] = sse._get_shutdown_state().watcher_started
            t0 = time.monotonic()
            server.handle_exit(signal.SIGTERM, None)
            try:
                async for _ in lines:
                    pass
                got["ended"] = "closed"
            except httpx.HTTPError as exc:
                got["ended"] = type(exc).__name__
            got["took"] = time.monotonic() - t0
    await asyncio.wait_for(serving, 10)
    return got

# uvicorn raises the signal it caught again once it has stopped: here that must not end the child.
signal.signal(signal.SIGTERM, lambda *a: None)
which = {"console": main.ConsoleServer, "uvicorn": uvicorn.Server}[sys.argv[1]]
print(json.dumps(asyncio.run(run(which))))
"""


def stopped(server: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, server], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize("server, watcher", [("console", False), ("uvicorn", True)])
def test_streams_end_when_the_server_stops_and_only_uvicorns_own_polls(server, watcher):
    got = stopped(server)
    assert got["events"] == 3
    assert got["watcher"] is watcher  # main.py's server: no polling task on its loop
    assert got["ended"] == "closed"  # the response ended properly, not cut
    assert got["took"] < 3  # within sse-starlette's grace period and uvicorn's 2 s
