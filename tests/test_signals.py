"""SIGTERM with SSE streams open: the console closes them and exits cleanly within 3 s, so
`systemctl restart` never waits for TimeoutStopSec nor ends in SIGKILL."""
from __future__ import annotations

import signal
import threading
import time

import httpx

STREAMS = 10


def test_sigterm_with_streams_open_exits_within_3_s(spawn_server):
    server = spawn_server()
    opened = threading.Barrier(STREAMS + 1, timeout=20)
    ended: list[str] = []

    def watch() -> None:
        try:
            with httpx.stream("GET", server.url + "/stream", timeout=httpx.Timeout(20.0)) as r:
                assert r.status_code == 200
                lines = r.iter_lines()
                next(lines)
                opened.wait()
                for _ in lines:  # until the server ends the stream
                    pass
            ended.append("closed")
        except httpx.HTTPError as exc:
            ended.append(type(exc).__name__)

    threads = [threading.Thread(target=watch, daemon=True) for _ in range(STREAMS)]
    for t in threads:
        t.start()
    opened.wait()  # every stream is open and has received data

    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=10)  # bounded; the requirement is checked below
    took = time.monotonic() - t0
    for t in threads:
        t.join(timeout=10)

    # uvicorn re-raises the signal after its graceful shutdown: "killed by SIGTERM" is its clean
    # exit, and systemd counts it as success. Anything else (SIGKILL, 1) is not.
    assert code in (0, -signal.SIGTERM), f"exit code {code}"
    assert took < 3.0, f"SIGTERM took {took:.1f} s with {STREAMS} streams open"
    assert len(ended) == STREAMS  # every client saw its stream end; none is left hanging
    log = server.log_path.read_text()
    assert "Finished server process" in log and "Traceback" not in log
    # Streams end their responses themselves (views/stream.py): none is cut off mid-response.
    assert "without completing response" not in log


def test_sighup_stops_gracefully_and_events_survive_the_restart(spawn_server, tmp_path):
    """An event recorded before SIGHUP is listed again by the restarted console."""
    env = {"SERVER_MONITOR_DATA_DIR": str(tmp_path),
           # memory is always above 0.01 % used: a warning (and so an event) at once
           "SERVER_MONITOR_THRESHOLDS": '{"memory_percent": {"warning": 0.01, "critical": 100, '
                                        '"for": 0, "clear": 0}}'}
    server = spawn_server(env=env)
    deadline = time.monotonic() + 10
    events = []
    while not events and time.monotonic() < deadline:
        events = [e for e in server.get("/api/events").json()["events"]
                  if e["check"] == "memory_percent"]
        time.sleep(0.2)
    assert events, "no event recorded before the signal"
    server.proc.send_signal(signal.SIGHUP)
    code = server.proc.wait(timeout=10)
    assert code in (0, -signal.SIGHUP), f"exit code {code}"
    assert "Finished server process" in server.log_path.read_text()  # graceful, not killed
    server.start()
    again = [e for e in server.get("/api/events").json()["events"]
             if e["id"] == events[0]["id"]]
    assert again and again[0]["start"] == events[0]["start"]
