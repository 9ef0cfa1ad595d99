"""The /logs live stream over real HTTP: a slow regex must not hold the server, a browser that
reconnects (sending Last-Event-ID) gets only the lines it has not had, and SIGTERM ends the stream
properly (its last chunk sent) instead of cutting it off. Requests carry the server's credential
(conftest's LiveServer.get and .headers).
"""
from __future__ import annotations

import json
import re
import signal
import threading
import time

import httpx


def read_events(response, stop, deadline: float) -> list[dict]:
    """SSE events as {"event", "data", "id"} until ``stop(event)`` is true, the stream ends, or
    ``deadline`` (time.monotonic) passes."""
    events: list[dict] = []
    cur: dict = {}
    for line in response.iter_lines():
        if line == "":
            if cur:
                events.append(cur)
                if stop(cur):
                    break
            cur = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            cur[field] = cur.get(field, "") + value.removeprefix(" ")
        if time.monotonic() > deadline:
            break
    return events


def messages(html: str) -> list[str]:
    return re.findall(r'<span class="log-msg">(.*?)</span>', html)


def page_mark(server, source: str) -> tuple[str, str]:
    page = server.get(f"/logs?source={source}").text
    return page.split('data-gen="')[1].split('"')[0], page.split('data-seq="')[1].split('"')[0]


def test_slow_regex_stops_the_stream_while_the_server_keeps_answering(spawn_server, tmp_path):
    log = tmp_path / "live.log"
    log.write_text("start\n")
    server = spawn_server(env={"SERVER_MONITOR_LOG_SOURCES": json.dumps([{"name": "live", "path": str(log)}]),
                               "SERVER_MONITOR_TICK": "0.2"})
    gen, seq = page_mark(server, "live")
    url = f"{server.url}/logs/stream?source=live&regex=(a|aa)%2B$&after={gen}:{seq}"
    events: list[dict] = []
    opened = threading.Event()

    def listen():
        with httpx.stream("GET", url, headers=server.headers, timeout=30) as r:
            assert r.status_code == 200
            opened.set()  # the stream's first event (the follower's status) is already on its way
            events.extend(read_events(r, lambda e: e.get("event") == "end", time.monotonic() + 30))

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert opened.wait(10)
    seq_before = server.get("/api/cpu").json()["seq"]
    # Each line makes (a|aa)+$ backtrack past any budget: matched on the event loop with a budget
    # per line, 40 lines held the whole server for 20 s.
    with open(log, "a") as f:
        f.write("".join("a" * 5000 + "b\n" for _ in range(40)))
    for _ in range(10):  # the server answers while the stream deals with those lines
        assert server.get("/healthz", timeout=5).status_code == 200
        time.sleep(0.2)
    thread.join(30)
    assert not thread.is_alive()
    assert server.get("/api/cpu").json()["seq"] > seq_before  # the sampler ticked
    status = [e["data"] for e in events if e.get("event") == "status" and "too slow" in e.get("data", "")]
    assert len(status) == 1 and "simplify the pattern" in status[0]
    assert events[-1].get("event") == "end"  # the page's sse-close: no reconnect to the same lines
    assert not any(e.get("event") == "lines" for e in events)


def test_reconnect_with_last_event_id_gets_only_newer_lines(spawn_server, tmp_path):
    log = tmp_path / "live.log"
    log.write_text("old line\n")
    server = spawn_server(env={"SERVER_MONITOR_LOG_SOURCES": json.dumps([{"name": "live", "path": str(log)}])})
    gen, seq = page_mark(server, "live")
    url = f"{server.url}/logs/stream?source=live&after={gen}:{seq}"  # the page's URL, always the same
    with httpx.stream("GET", url, headers=server.headers, timeout=10) as r:
        with open(log, "a") as f:
            f.write("one\ntwo\n")
        first = read_events(r, lambda e: "two" in e.get("data", ""), time.monotonic() + 10)
    got = [e for e in first if e.get("event") == "lines"]
    assert messages("".join(e["data"] for e in got)) == ["one", "two"]
    last_id = got[-1]["id"]
    assert last_id == f"{gen}:{int(seq) + 2}"
    assert re.findall(r'data-seq="(\d+)"', "".join(e["data"] for e in got)) == [str(int(seq) + 1),
                                                                              str(int(seq) + 2)]

    with open(log, "a") as f:
        f.write("three\n")
    # What EventSource does on a reconnect: the same URL, plus the id of the last event it got.
    with httpx.stream("GET", url, headers={**server.headers, "Last-Event-ID": last_id}, timeout=10) as r:
        again = read_events(r, lambda e: e.get("event") == "lines", time.monotonic() + 10)
    lines = [e for e in again if e.get("event") == "lines"]
    assert len(lines) == 1
    assert messages(lines[0]["data"]) == ["three"]
    assert lines[0]["id"] == f"{gen}:{int(seq) + 3}"


def test_sigterm_ends_open_log_streams_cleanly(spawn_server, tmp_path):
    """Like tests/test_signals.py for /stream: each open /logs/stream (file and journal followers,
    with a filter or none) ends with its response complete: httpx reads the chunked terminator (a
    cut-off response raises RemoteProtocolError), and the server logs no "ASGI callable returned
    without completing response"."""
    log = tmp_path / "live.log"
    log.write_text("old line\n")
    sources = [{"name": "live", "path": str(log)}, {"name": "journal", "kind": "journal"}]
    server = spawn_server(env={"SERVER_MONITOR_LOG_SOURCES": json.dumps(sources)})
    urls = ["/logs/stream?source=live", "/logs/stream?source=live&q=keep&regex=ke%2Bp"]
    if server.get("/api/logs/sources").json()[1]["available"]:
        urls.append("/logs/stream?source=journal")
    opened = threading.Barrier(len(urls) + 1, timeout=20)
    ended: dict[str, str] = {}

    def watch(url: str) -> None:
        try:
            with httpx.stream("GET", server.url + url, headers=server.headers, timeout=20) as r:
                assert r.status_code == 200
                lines = r.iter_lines()
                next(lines)  # the first event (the follower's status) arrived
                opened.wait()
                for _ in lines:  # until the server ends the response
                    pass
            ended[url] = "complete"
        except httpx.HTTPError as exc:
            ended[url] = type(exc).__name__

    threads = [threading.Thread(target=watch, args=(u,), daemon=True) for u in urls]
    for t in threads:
        t.start()
    opened.wait()
    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=10)
    took = time.monotonic() - t0
    for t in threads:
        t.join(10)
    assert code in (0, -signal.SIGTERM), f"exit code {code}"  # uvicorn re-raises the signal
    assert ended == {u: "complete" for u in urls}
    assert took < 3.0, f"SIGTERM took {took:.1f} s with {len(urls)} log streams open"
    text = server.log_path.read_text()
    assert "Finished server process" in text and "Traceback" not in text
    assert "without completing response" not in text
