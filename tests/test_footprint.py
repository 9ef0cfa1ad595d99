"""What the console imports is what it uses (issue 19, RSS): a package only one feature needs is
imported when that feature is first used, not at start. Each check runs a fresh interpreter,
since the test process itself has imported everything."""
from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time

import httpx

from tests.conftest import ROOT

PROBE = """
import json, sys, time
from fastapi.testclient import TestClient
from main import create_app
from tests.conftest import AUTH, make_settings
log = sys.argv[1]
app = create_app(make_settings(tick=0.2, services_bus="unix:path=" + sys.argv[2],
                               log_sources=[{"name": "app", "path": log}]))
seen = {}
with TestClient(app, base_url="http://127.0.0.1", headers=AUTH) as c:
    time.sleep(0.8)  # ticks: every area collected, judged and recorded
    for path in ("/dashboard", "/api/snapshot", "/api/logs?source=app", "/processes"):
        assert c.get(path).status_code == 200, path
    seen["at rest"] = {m: m in sys.modules and sys.modules[m] is not None
                       for m in ("regex", "dbus_fast", "pydantic.v1", "prometheus_client",
                                 "monitor.notify.dispatcher", "monitor.fleet_poll", "monitor.actions")}
    scrape = c.get("/metrics")
    seen["scrape"] = [scrape.status_code, scrape.headers["content-type"].startswith("text/plain"),
                      "node_load1 " in scrape.text, "prometheus_client" in sys.modules]
    found = c.get("/api/logs", params={"source": "app", "regex": "disk (full|gone)"})
    seen["regex answer"] = [l["message"] for l in found.json()["lines"]]
    seen["regex after a filter"] = "regex" in sys.modules
print(json.dumps(seen))
"""


def test_what_only_a_feature_needs_is_not_imported_until_used(tmp_path):
    """regex (a log filter), dbus_fast (a system bus), pydantic.v1 (never), prometheus_client (a
    scrape); notifications, the fleet and actions are off in these settings, as by default."""
    log = tmp_path / "app.log"
    log.write_text("boot ok\ndisk full on /srv\nall quiet\n")
    no_bus = tmp_path / "no-such-bus"  # a host without systemd: no system bus socket
    r = subprocess.run([sys.executable, "-c", PROBE, str(log), str(no_bus)], cwd=ROOT,
                       capture_output=True, text=True, timeout=90, check=False,
                       env={**os.environ, "SERVER_MONITOR_DATA_DIR": str(tmp_path / "data")})
    assert r.returncode == 0, r.stderr[-3000:]
    seen = json.loads(r.stdout.splitlines()[-1])
    assert seen["at rest"] == {"regex": False, "dbus_fast": False, "pydantic.v1": False,
                               "prometheus_client": False, "monitor.notify.dispatcher": False,
                               "monitor.fleet_poll": False, "monitor.actions": False}, seen
    # the first scrape imports prometheus_client and answers in its text format
    assert seen["scrape"] == [200, True, True, True], seen
    # the first filter imports regex, and filtering works as before
    assert seen["regex answer"] == ["disk full on /srv"] and seen["regex after a filter"], seen


ARENAS = """
import ctypes, threading
import main  # noqa: F401 - sets the arena limit at import
def work():
    kept = [bytearray(3000) for _ in range(200)]  # above pymalloc's 512 bytes: glibc's malloc
    barrier.wait()
barrier = threading.Barrier(4)
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(None).malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def test_threads_share_one_malloc_arena(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    r = subprocess.run([sys.executable, "-c", ARENAS], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, check=False, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr.count("Arena ") == 1, r.stderr


TRIM = """
import json
from monitor import malloc
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
blocks = [bytearray(3000) for _ in range(20000)]  # 60 MB on glibc's heap (above pymalloc's size)
top = bytearray(3000)  # allocated last: the heap's top stays in use, so free() cannot shrink it
before = rss()
del blocks
freed = rss()
released = malloc.trim()
print(json.dumps([before, freed, rss(), released]))
"""


def test_trim_gives_the_heaps_free_middle_back():
    r = subprocess.run([sys.executable, "-c", TRIM], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    before, freed, trimmed, released = json.loads(r.stdout)
    assert freed > before - 20 * 2**20  # free() alone kept most of it resident
    assert released and trimmed < freed - 40 * 2**20, (before, freed, trimmed)


def test_console_serves_on_the_stdlib_loop_even_with_uvloop_installed(tmp_path, spawn_server):
    """uvicorn's default ("auto") takes uvloop whenever it can be imported: 2.5 MiB of RSS for
    no CPU saved at one tick a second. A uvloop that leaves a mark when imported stands in for
    an installed one; the console must serve without ever importing it."""
    fake = tmp_path / "site" / "uvloop"
    fake.mkdir(parents=True)
    mark = tmp_path / "uvloop-imported"
    (fake / "__init__.py").write_text(
        f"open({str(mark)!r}, 'w').close()\n"
        "raise ImportError('a stand-in: the console must not import uvloop')\n")
    server = spawn_server({"PYTHONPATH": f"{fake.parent}{os.pathsep}{ROOT}",
                           "SERVER_MONITOR_DATA_DIR": str(tmp_path / "data")})
    assert server.get("/api/cpu").status_code == 200
    assert server.get("/dashboard").status_code == 200
    assert not mark.exists()


def test_python_main_py_runs_uvicorn_without_its_command_line(tmp_path, spawn_server):
    """``python main.py`` never imports uvicorn.main (click, multiprocessing: 1.5 MiB); its
    streams still end at SIGTERM (ConsoleServer tells them, not sse-starlette's wrapper)."""
    server = spawn_server({"PYTHONPROFILEIMPORTTIME": "1", "SERVER_MONITOR_DATA_DIR": str(tmp_path / "data")})
    with httpx.stream("GET", server.url + "/stream", headers=server.headers, timeout=10) as r:
        lines = r.iter_lines()
        events = set()
        for line in itertools.islice(lines, 2000):  # the first push holds every card
            events.add(line)
            if {"event: cpu", "event: tick"} <= events:
                break
        assert {"event: cpu", "event: tick"} <= events
        began = time.monotonic()
        server.proc.terminate()
        for _ in lines:  # the server ends the stream (the read timeout bounds it)
            pass
    # uvicorn re-raises the signal after its graceful shutdown (tests/test_signals.py)
    assert server.proc.wait(10) in (0, -signal.SIGTERM) and time.monotonic() - began < 5
    assert "Finished server process" in server.log_path.read_text()
    imported = {line.rsplit("|", 1)[1].strip() for line in server.log_path.read_text().splitlines()
                if line.startswith("import time:") and "|" in line}
    assert {"uvicorn.server", "uvicorn.config", "sse_starlette.sse"} <= imported  # the probe sees imports
    # (uvicorn.main itself is listed: sse-starlette's attempt, refused at once; what it imports is not)
    assert not imported & {"click", "multiprocessing", "uvicorn.supervisors"}, \
        sorted(imported & {"click", "multiprocessing", "uvicorn.supervisors"})


def test_importing_main_leaves_uvicorn_whole():
    """Tests, benchmarks and ``uvicorn main:app`` import main: uvicorn stays the whole package."""
    r = subprocess.run([sys.executable, "-c", "import main, uvicorn, uvicorn.main, click; print(uvicorn.run.__module__)"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0 and r.stdout.strip() == "uvicorn.main", r.stderr[-2000:]
