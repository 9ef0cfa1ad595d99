"""Logs over HTTP: the JSON API, the page and fragment, and hostile input against every parameter.

Sources are files the tests write into a temporary directory, configured through Settings.
"Nothing read" is proved by recording every open() and every subprocess while a bad request runs.
"""
from __future__ import annotations

import builtins
import html
import json
import os
import subprocess
import time

import httpx
import pytest

from monitor.logs import regex_guard

LINES = [
    "2025-11-26T10:00:00+00:00 web1 sshd[1]: Accepted publickey for ops",
    "2025-11-26T10:05:00+00:00 web1 sshd[2]: error: kex_exchange_identification",
    "2025-11-26T10:10:00+00:00 web1 kernel: warning: CPU3 temperature above threshold",
    "2025-11-26T10:20:00+00:00 web1 sshd[4]: fatal: Read from socket failed",
]


@pytest.fixture
def logdir(tmp_path):
    (tmp_path / "auth.log").write_text("\n".join(LINES) + "\n")
    (tmp_path / "canary").write_text("SECRET canary line\n")
    return tmp_path


@pytest.fixture
def logs_client(make_client, logdir):
    # tick=60: the sampler takes its first sample at startup and no other during a test, so its
    # logs collector (which reads auth.log too) cannot spoil a "nothing read" assertion.
    return make_client(tick=60, log_sources=[
        {"name": "auth", "kind": "file", "path": str(logdir / "auth.log")},
        {"name": "missing", "kind": "file", "path": str(logdir / "nope.log")},
        {"name": "journal", "kind": "journal"},
    ])


def test_sources_list_with_availability(logs_client, logdir):
    r = logs_client.get("/api/logs/sources")
    assert r.status_code == 200
    by_name = {s["name"]: s for s in r.json()}
    assert by_name["auth"] == {"name": "auth", "kind": "file", "path": str(logdir / "auth.log"),
                               "available": True, "reason": None}
    assert by_name["missing"]["available"] is False
    assert by_name["missing"]["reason"] == f"not found: {logdir / 'nope.log'}"
    assert by_name["journal"]["kind"] == "journal"


def test_api_logs_lines_as_objects(logs_client):
    r = logs_client.get("/api/logs", params={"source": "auth", "lines": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["source"] == "auth" and body["count"] == 2
    last = body["lines"][-1]
    assert last == {"time": 1764152400.0, "level": 2, "level_name": "crit", "source": "auth",
                    "unit": None, "identifier": "sshd", "pid": 4, "message": LINES[-1]}


@pytest.mark.parametrize("params, pids", [
    ({"q": "sshd"}, [1, 2, 4]),
    ({"regex": r"sshd\[[24]\]"}, [2, 4]),
    ({"level": "err"}, [2, 4]),
    ({"since": "2025-11-26T10:04:00+00:00", "until": "2025-11-26T10:15:00+00:00"}, [2, None]),
    ({"q": "sshd", "level": "crit"}, [4]),
])
def test_api_filters(logs_client, params, pids):
    r = logs_client.get("/api/logs", params={"source": "auth", **params})
    assert r.status_code == 200, r.text
    assert [line["pid"] for line in r.json()["lines"]] == pids


def test_unreadable_source_is_503_with_reason(logs_client, logdir):
    r = logs_client.get("/api/logs?source=missing")
    assert r.status_code == 503
    assert r.json()["detail"] == f"missing: not found: {logdir / 'nope.log'}"


def test_journal_source_answers_or_is_unavailable(logs_client):
    r = logs_client.get("/api/logs?source=journal&lines=5&unit=sshd.service")
    if r.status_code == 200:
        assert r.json()["source"] == "journal" and r.json()["count"] <= 5
    else:
        assert r.status_code == 503 and "journalctl" in r.json()["detail"]


# -- hostile input ---------------------------------------------------------------------------------
class Recorder:
    """Every path passed to open()/os.open() and every subprocess started, from any thread."""

    def __init__(self, monkeypatch):
        self.opened: list[str] = []
        self.commands: list = []
        real_open, real_os_open, real_popen = builtins.open, os.open, subprocess.Popen.__init__

        def rec_open(file, *a, **k):
            self.opened.append(str(file))
            return real_open(file, *a, **k)

        def rec_os_open(path, *a, **k):
            self.opened.append(str(path))
            return real_os_open(path, *a, **k)

        def rec_popen(this, args, *a, **k):
            if args != regex_guard.HELPER_ARGV:  # compiles the pattern, reads nothing (regex_guard.py)
                self.commands.append(args)
            return real_popen(this, args, *a, **k)
        monkeypatch.setattr(builtins, "open", rec_open)
        monkeypatch.setattr(os, "open", rec_os_open)
        monkeypatch.setattr(subprocess.Popen, "__init__", rec_popen)

    def logs_touched(self, logdir) -> list[str]:
        """Opened paths that are log files, the canary, or outside /proc and /sys (the sampler)."""
        return [p for p in self.opened
                if p.startswith(str(logdir)) or "shadow" in p or "passwd" in p or ".." in p]


BAD = [
    # (parameter overrides, status, words in the message)
    ({"source": "../../etc/shadow"}, 400, "not a source name"),
    ({"source": "/etc/passwd"}, 400, "not a source name"),
    ({"source": "%2e%2e%2f"}, 400, "not a source name"),
    ({"source": "../canary"}, 400, "not a source name"),
    ({"source": "auth/../../canary"}, 400, "not a source name"),
    ({"source": "nosuch"}, 404, "no configured log source named 'nosuch'"),
    ({"source": "auth\x00"}, 400, "not a source name"),
    ({"lines": "0"}, 422, "lines: Input should be greater than or equal to 1"),
    ({"lines": "100000000"}, 422, "lines: Input should be less than or equal to 100000"),
    ({"lines": "5001"}, 422, "lines: must be between 1 and 5000"),  # the configured maximum
    ({"lines": "../../etc/shadow"}, 422, "lines"),
    ({"level": "../../etc/shadow"}, 422, "level: "),
    ({"since": "../../etc/shadow"}, 422, "since: "),
    ({"since": "$(cat /etc/shadow)"}, 422, "since: "),
    ({"until": "%2e%2e%2f"}, 422, "until: "),
    ({"regex": "(?P<x"}, 422, "regex: invalid pattern"),
    ({"regex": "a" * 250}, 422, "regex: at most"),
    ({"regex": "(?:x{3000}){3000}"}, 422, "regex: a repeat count of 3000 is more than 1000"),
    ({"regex": "(?:x{1000}){1000}"}, 422, "regex: too complex: compiling it needs more than 32 MiB"),
    ({"since": "999999w"}, 422, "since: '999999w' is before 1970"),
    ({"until": "99999999999"}, 422, "until: '99999999999' is more than a year in the future"),
    ({"source": "journal", "since": "999999w"}, 422, "since: '999999w' is before 1970"),
    ({"source": "journal", "unit": "../../etc/shadow"}, 422, "unit: "),
    ({"source": "journal", "unit": "--file=/etc/shadow"}, 422, "unit: "),
    ({"source": "journal", "unit": "sshd.service; cat /etc/shadow"}, 422, "unit: "),
    ({"source": "journal", "unit": "*"}, 422, "unit: "),
    ({"unit": "sshd.service"}, 422, "unit: applies to journal sources only"),
]


@pytest.mark.parametrize("path", ["/api/logs", "/logs", "/fragments/logs", "/logs/stream"])
@pytest.mark.parametrize("over, status, words", BAD)
def test_bad_input_is_4xx_and_reads_nothing(logs_client, logdir, monkeypatch, path, over, status, words):
    rec = Recorder(monkeypatch)
    params = {"source": "auth", **over}
    r = logs_client.get(path, params=params)
    assert r.status_code == status, r.text
    text = r.json()["detail"] if path.startswith("/api/") else html.unescape(r.text)
    assert words in text
    assert rec.logs_touched(logdir) == []
    assert rec.commands == []


def test_raw_percent_encoded_traversal(logs_client, logdir, monkeypatch):
    """%2e%2e%2f decoded once is ../ ; double-encoded it stays %2e…: both are refused."""
    rec = Recorder(monkeypatch)
    for raw in ("/api/logs?source=%2e%2e%2f%2e%2e%2fetc%2fshadow", "/api/logs?source=%252e%252e%252f"):
        r = logs_client.get(raw)
        assert r.status_code == 400 and "not a source name" in r.json()["detail"]
    assert rec.logs_touched(logdir) == [] and rec.commands == []


@pytest.mark.parametrize("after", ["x:../../etc", "1.2:\u00b2", "1.2:-1", "1.2:", "1.2:1e3", "1.2:" + "9" * 19])
def test_bad_stream_mark_is_422(logs_client, after):
    r = logs_client.get("/logs/stream", params={"source": "auth", "after": after})
    assert r.status_code == 422 and "after:" in r.text


@pytest.mark.parametrize("param", ["q", "regex"])
def test_paths_in_text_filters_are_only_text(logs_client, logdir, monkeypatch, param):
    """q and regex take any text: a path there is searched for, never opened."""
    rec = Recorder(monkeypatch)
    r = logs_client.get("/api/logs", params={"source": "auth", param: str(logdir / "canary")})
    assert r.status_code == 200 and r.json()["count"] == 0
    assert str(logdir / "canary") not in rec.opened
    assert all(p == str(logdir / "auth.log") for p in rec.logs_touched(logdir))
    assert rec.commands == []


def test_unit_reaches_journalctl_as_one_argument(logs_client, monkeypatch):
    rec = Recorder(monkeypatch)
    r = logs_client.get("/api/logs", params={"source": "journal", "unit": "getty@tty1.service"})
    assert r.status_code in (200, 503)
    for args in rec.commands:
        assert isinstance(args, list) and "--unit=getty@tty1.service" in args


# -- the page ----------------------------------------------------------------------------------------
def test_page_lists_sources_and_escapes_hostile_lines(make_client, tmp_path):
    hostile = ["<script>alert(1)</script> in a log", "<img src=x onerror=alert(2)>",
               "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 done"]
    (tmp_path / "h.log").write_text("\n".join(hostile) + "\n")
    c = make_client(log_sources=[{"name": "h", "path": str(tmp_path / "h.log")},
                                 {"name": "gone", "path": str(tmp_path / "gone.log")}])
    r = c.get("/logs?source=h")
    assert r.status_code == 200
    body = r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; in a log" in body and "<script>alert(1)" not in body
    assert "&lt;img src=x onerror=alert(2)&gt;" in body
    assert "\x1b" not in body and "red  done" in body and "pwned" not in body  # OSC title gone
    assert 'sse-connect="/logs/stream?source=h&amp;after=' in body
    assert "not found:" in body  # the unavailable source is listed with its reason


def test_process_page_link_to_journal_unit(logs_client):
    """/logs?source=journal&unit=<unit> (from the process detail) works, and so does ?unit= alone."""
    for url in ("/logs?source=journal&unit=sshd.service", "/logs?unit=sshd.service"):
        r = logs_client.get(url)
        assert r.status_code == 200
        assert 'value="sshd.service"' in r.text  # the unit filter is shown in the form
        assert "journal" in r.text


def test_fragment_replaces_the_page_url(logs_client):
    """Filters apply as the operator types: the address bar follows, replaced, not pushed."""
    r = logs_client.get("/fragments/logs", params={"source": "auth", "q": "sshd", "level": "err"})
    assert r.status_code == 200
    assert r.headers["hx-replace-url"] == "/logs?source=auth&q=sshd&level=err"
    assert "hx-push-url" not in r.headers
    assert r.text.lstrip().startswith('<section id="log-view"')
    assert "kex_exchange_identification" in r.text and "Accepted publickey" not in r.text



@pytest.mark.parametrize("params, field, says", [
    ({"regex": "fail(ed"}, "regex", "regex:"),
    ({"since": "yesterday-ish"}, "since", "since:"),
    ({"source": "nope"}, "source", "no configured log source"),
    ({"unit": "sshd.service"}, "form", "journal sources only"),  # a file source has no unit field
])
def test_a_refused_filter_comes_back_for_its_fields_error_slot(logs_client, params, field, says):
    """The fragment answers a bad filter with its 4xx and the message for that field's slot
    (HX-Retarget), which static/logs.js swaps in next to the field instead of failing silently."""
    r = logs_client.get("/fragments/logs", params={"source": "auth", **params})
    assert r.status_code in (404, 422)
    assert r.headers["hx-retarget"] == f"#log-error-{field}" and r.headers["hx-reswap"] == "innerHTML"
    assert f'data-field="{field}"' in r.text and says in r.text and 'role="alert"' in r.text
    page = logs_client.get("/logs", params={"source": "auth"}).text
    assert f'id="log-error-{field}"' in page  # the slot the message goes to


# -- the live stream over real HTTP --------------------------------------------------------------------
def test_stream_delivers_appended_lines(spawn_server, tmp_path):
    log = tmp_path / "live.log"
    log.write_text("old line\n")
    server = spawn_server(env={"SERVER_MONITOR_LOG_SOURCES": json.dumps([{"name": "live", "path": str(log)}])})
    page = server.get("/logs?source=live")
    assert page.status_code == 200 and "old line" in page.text
    mark = page.text.split('data-gen="')[1].split('"')[0], page.text.split('data-seq="')[1].split('"')[0]
    url = f"{server.url}/logs/stream?source=live&q=keep&after={mark[0]}:{mark[1]}"
    events: list[str] = []
    with httpx.stream("GET", url, headers=server.headers, timeout=10) as r:
        assert r.status_code == 200
        with open(log, "a") as f:
            f.write("drop this\nkeep <b>me</b>\n")
        deadline = time.monotonic() + 10
        for line in r.iter_lines():
            events.append(line)
            if "keep" in line or time.monotonic() > deadline:
                break
    data = [e for e in events if e.startswith("data:") and "log-line" in e]
    assert len(data) == 1
    assert "keep &lt;b&gt;me&lt;/b&gt;" in data[0] and "drop this" not in data[0] and "old line" not in data[0]
    assert any(e.startswith("event: lines") for e in events)


def test_page_without_a_source_opens_the_first_readable_one(make_client, logdir):
    c = make_client(log_sources=[
        {"name": "missing", "kind": "file", "path": str(logdir / "nope.log")},
        {"name": "auth", "kind": "file", "path": str(logdir / "auth.log")},
    ])
    page = c.get("/logs").text
    assert '<option value="auth" selected>' in page and '<option value="missing" selected>' not in page
