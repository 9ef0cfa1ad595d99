"""Host bytes are data, never trusted text (issue 10): text.clean on literal input, then the real
collectors and a real console with tests/hostile.py's processes and files running."""
from __future__ import annotations

import json
import re
import threading
import time
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.collectors.disks import DisksCollector
from monitor.collectors.processes import (CMDLINE_LIMIT, DETAIL_CMDLINE_LIMIT, ProcessesCollector,
                                          bounded_argv)
from monitor.logs.lines import MAX_MESSAGE, inert, parse_file_line
from monitor.process_detail import read_detail
from monitor.text import clean, clean_cut
from tests.hostile import HOSTILE_COMM, LONG_ARG, MANY_ARGS, hostile_host

# What must never reach a page, a JSON string or the SSE stream raw: C0 controls but tab, DEL,
# C1, line/paragraph separators, bidi marks, surrogates. Newline is allowed in a *body* (HTML and
# SSE are line-based); BODY_FORBIDDEN is for bodies, FORBIDDEN for a decoded string value.
FORBIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                       "\u2066-\u2069\ud800-\udfff]")
BODY_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                            "\u202a-\u202e\u2066-\u2069]")
NOTE = len("…[truncated, 9999999 characters]")


# -- text.clean on literal input ----------------------------------------------------------------

def test_plain_text_is_returned_as_is():
    for s in ("python3", "kworker/0:1-events", "naïve café 日本語 🙂", "tab\tkept", ""):
        assert clean(s) is s  # the fast path: no copy, nothing changed


@pytest.mark.parametrize("raw, shown", [
    (b"x\xff\xfey", "x\ufffd\ufffdy"),  # undecodable bytes
    ("x\udcff\udcfey", "x\ufffd\ufffdy"),  # psutil's surrogateescape of the same bytes
    ("\ud83d\ude00", "\ufffd\ufffd"),  # a surrogate "pair" is two lone surrogates in a str
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("a\x00b\x07c\x7fd\ne\rf", "a\\x00b\\x07c\\x7fd\\x0ae\\x0df"),
    ("nel\u0085csi\u009b31m", "nel\\x85csi\\x9b31m"),
    ("evil\u202etxt.exe", "evil\\u202etxt.exe"),
    ("\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u202a\u202b\u202c\u202d",
     "\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c\\u202a\\u202b\\u202c\\u202d"),
    ("line\u2028para\u2029", "line\\u2028para\\u2029"),
    (None, ""),
    (b"", ""),
])
def test_clean_shows_what_would_act_as_visible_escapes(raw, shown):
    assert clean(raw) == shown


def test_limit_bounds_the_result_and_says_how_long_the_original_was():
    assert clean("A" * 10, limit=4) == "AAAA…[truncated, 10 characters]"
    assert clean(b"A" * 10, limit=4) == "AAAA…[truncated, 10 characters]"
    assert clean("A" * 4, limit=4) == "AAAA"
    # Escapes are longer than what they stand for: a cut never leaves half an escape ("\x1"),
    # which would read as a different character.
    out, cut = clean_cut("\x1b" * 10, 7)
    assert cut and out == "\\x1b"
    out, cut = clean_cut("ab\u202ecd", 5)
    assert cut and out == "ab"


def test_clean_is_linear_and_bounded_by_the_limit():
    big = "\x1b\u202e\udcff" * (700 * 1024)  # 2.1 M characters, all needing an escape
    t0 = time.perf_counter()
    out = clean(big, limit=4096)
    bounded = time.perf_counter() - t0
    assert len(out) <= 4096 + NOTE
    t0 = time.perf_counter()
    full = clean(big)
    whole = time.perf_counter() - t0
    assert len(full) == 700 * 1024 * (4 + 6 + 1)
    # A 2 MiB string is milliseconds (a quadratic step would be minutes); the cut one is less.
    assert whole < 2.0 and bounded < 0.05, (whole, bounded)


@given(st.one_of(st.text(), st.binary()), st.one_of(st.none(), st.integers(0, 64)))
def test_clean_always_gives_valid_inert_text(raw, limit):
    out = clean(raw, limit)
    out.encode("utf-8")  # never raises: no surrogates left
    body = out.split("…[truncated", 1)[0] if limit is not None else out
    assert not FORBIDDEN.search(out.replace("\t", " "))
    assert clean(out) == out  # idempotent: cleaning twice (collector, then a view) changes nothing
    if limit is not None:
        assert len(body) <= limit


def test_inert_log_lines_strip_ansi_and_escape_c1_and_bidi():
    out = inert("\x1b[31mred\x1b[0m nel\u0085 csi\u009b2J bidi\u202egnp.exe nul\x00 tab\tok \udcff")
    assert out == "red nel\\x85 csi bidi\\u202egnp.exe nul\\x00 tab\tok \ufffd"
    out.encode("utf-8")
    # Bounded, and the work is bounded too: a 10 MB line is cut before the regexes run.
    t0 = time.perf_counter()
    long = inert("\x1b]" + "W" * 10_000_000)
    assert time.perf_counter() - t0 < 0.5
    assert len(long) <= MAX_MESSAGE + len(" …[truncated]")
    line = parse_file_line("Nov 26 11:32:05 web1 app[1]: x\u0085y", "app", year=2025)
    assert line.message.endswith("x\\x85y")


def test_command_lines_are_masked_whole_before_they_are_cut():
    """The cut at CMDLINE_LIMIT falls inside a URL's password: masking saw the whole argument
    first, so no prefix of the password is shown (cut first, "postgres://u:SEC" has no "@" and
    would not be masked)."""
    secret = "SECRETSECRETSECRET"
    pad = "A" * (CMDLINE_LIMIT - len("prog  postgres://u:") - 4)
    collector = ProcessesCollector()
    masked, short = collector._command(1, ["prog", pad + " postgres://u:" + secret + "@db/app"], "prog")
    joined = " ".join(masked)
    assert "SECR" not in joined and "SECR" not in short
    assert len(joined) <= CMDLINE_LIMIT + NOTE and joined.endswith("characters]")


def test_bounded_argv_keeps_the_start_and_counts_the_rest():
    out = bounded_argv(["sleep", *["a\udcff"] * 10_000], limit=100)
    assert sum(map(len, out)) + len(out) - 1 <= 100 + NOTE
    assert out[0] == "sleep" and out[1] == "a\ufffd"
    assert out[-1].endswith(f"…[truncated, {5 + 10_000 * 3} characters]")
    assert bounded_argv(["ls", "-l"]) == ["ls", "-l"]


# -- the real collectors with the hostile host running -------------------------------------------

@pytest.fixture(scope="module")
def hostile():
    with hostile_host(mount=True) as h:
        yield h


def strings(value):
    """Every string in a JSON-shaped value (keys too)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings(v)


def assert_safe_json(model_json: str, secrets: list[str]) -> None:
    model_json.encode("utf-8")
    for s in strings(json.loads(model_json)):
        assert not FORBIDDEN.search(s.replace("\t", " ")), repr(s[:200])
    for secret in secrets:
        assert secret not in model_json


@pytest.fixture(scope="module")
def table(hostile):
    """Two reads of the process table (cpu_percent needs a baseline) with the host running."""
    collector = ProcessesCollector()
    collector.collect(time.monotonic())
    time.sleep(1.0)
    t0 = time.perf_counter()
    data = collector.collect(time.monotonic())
    return data, time.perf_counter() - t0


def test_process_rows_of_hostile_processes_are_valid_inert_and_bounded(hostile, table):
    data, took = table
    rows = {r.pid: r for r in data.rows}
    for role, pid in hostile.pids.items():
        row = rows[pid]
        assert_safe_json(row.model_dump_json(), hostile.secrets)
        assert len(" ".join(row.cmdline)) <= CMDLINE_LIMIT + NOTE, role
        assert len(row.command) <= 160
    assert rows[hostile.pids["comm"]].name == "h\ufffd\\x1b[2J\\u202e\\x85z" == clean(HOSTILE_COMM)
    assert rows[hostile.pids["zombie"]].status == "zombie"
    assert rows[hostile.pids["zombie"]].name == "zomb\ufffd\ufffd\\u202e"
    assert rows[hostile.pids["argv"]].cmdline[0] == "py\ufffd\ufffd\\x1b[31m\\x1b]0;owned\\x07\\u202e\\x85"
    # Byte for byte: a CR stays a CR (psutil's text-mode read would have made it an LF).
    assert rows[hostile.pids["argv"]].cmdline[-1] == "tab\tnl\\x0acr\\x0d"
    long_arg = rows[hostile.pids["long_arg"]].cmdline
    assert long_arg[-1].endswith("characters]") and len(long_arg) == 5  # cut inside the 128 KiB one
    many = rows[hostile.pids["many_args"]].cmdline
    assert len(many) < 2000 and many[-1].endswith("characters]")
    assert len(rows[hostile.pids["long_name"]].name) <= 256 + NOTE
    # The busy one with the hostile name is in the top list, and so in the snapshot's JSON.
    assert hostile.pids["busy"] in [r.pid for r in data.top_cpu]
    assert_safe_json(data.model_dump_json(), hostile.secrets)
    # A 2 MiB-ish host costs milliseconds per tick: masking and cleaning are cached per argv.
    assert took < 1.0, took


def test_process_detail_of_every_hostile_process(hostile, table):
    data, _ = table
    rows = {r.pid: r for r in data.rows}
    for role, pid in hostile.pids.items():
        d = read_detail(pid, rows=rows)
        assert_safe_json(d.model_dump_json(), hostile.secrets)
        assert len(" ".join(d.cmdline or [])) <= DETAIL_CMDLINE_LIMIT + NOTE
    cwd = read_detail(hostile.pids["cwd"], rows=rows)
    assert cwd.cwd.endswith("/dir-\ufffd\ufffd\\x1b[31m\\x1b]0;owned\\x07\\u202e")
    assert any(f.path.endswith("/file-\ufffd\ufffd\\x85.log") for f in cwd.open_files)
    many = read_detail(hostile.pids["many_args"], rows=rows)
    assert len(many.cmdline) == MANY_ARGS + 4  # 40 K characters: all kept on the detail page
    assert "--password=***" in many.cmdline
    # 128 KiB is more than the detail keeps: cut inside it, the note counts what the whole was.
    long_arg = read_detail(hostile.pids["long_arg"], rows=rows).cmdline
    assert len(long_arg) == 5 and long_arg[4].startswith("A" * 60_000)
    total = int(re.search(r"…\[truncated, (\d+) characters\]$", long_arg[4]).group(1))
    assert LONG_ARG < total < LONG_ARG + 2000
    assert read_detail(hostile.pids["zombie"], rows=rows).status == "zombie"
    # The detail reads the arguments as the table does: the same bytes, the same text.
    argv = hostile.pids["argv"]
    assert read_detail(argv, rows=rows).cmdline[-1] == rows[argv].cmdline[-1] == "tab\tnl\\x0acr\\x0d"


def test_hostile_mount_point_is_listed_cleaned_and_measured(hostile):
    if hostile.mount_point is None:
        pytest.skip(hostile.mount_skipped)
    data = DisksCollector().collect(time.monotonic())
    shown = clean(hostile.mount_point)
    fs = next(f for f in data.filesystems if f.mountpoint == shown)
    # statvfs was called on the raw path (the cleaned one does not exist): real numbers.
    assert fs.error is None and fs.total and fs.fstype == "ext2"
    assert_safe_json(data.model_dump_json(), [])
    assert f"disks.{shown}.percent" in DisksCollector().series(data)


# -- a real console with the hostile host running ------------------------------------------------

def headers_for(server) -> dict:
    """The one place requests get their credential: the server's full token (tests/conftest.py).
    A 401/403 below means the auth model changed: report it, do not weaken auth to pass."""
    return dict(getattr(server, "headers", {}) or {})


def get(server, path: str, **kw) -> httpx.Response:
    return httpx.get(server.url + path, headers=headers_for(server), timeout=kw.pop("timeout", 20), **kw)


def hostile_server(spawn_server, hostile):
    sources = [{"name": "hostile", "kind": "file", "path": str(hostile.log_path)}]
    return spawn_server({"SERVER_MONITOR_LOG_SOURCES": json.dumps(sources)})


class SeqWatch(threading.Thread):
    """Polls /api/snapshot's seq and records the longest time it did not move."""

    def __init__(self, server) -> None:
        super().__init__(daemon=True)
        self.server, self.stop, self.worst, self.errors = server, threading.Event(), 0.0, []
        self.seqs: list[int] = []

    def run(self) -> None:
        last_seq, last_change = None, time.monotonic()
        while not self.stop.is_set():
            try:
                r = get(self.server, "/api/snapshot", timeout=10)
                seq = r.json()["seq"] if r.status_code == 200 else None
                if r.status_code != 200:
                    self.errors.append(r.status_code)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                self.errors.append(repr(exc))
                seq = None
            now = time.monotonic()
            if seq is not None and seq != last_seq:
                last_seq, last_change = seq, now
                self.seqs.append(seq)
            self.worst = max(self.worst, now - last_change)
            self.stop.wait(0.2)


def check_body(path: str, r: httpx.Response, secrets: list[str]) -> None:
    assert r.status_code < 500, f"{path}: {r.status_code} {r.text[:300]}"
    assert r.status_code not in (401, 403), f"{path}: {r.status_code}: the auth model changed? report it"
    text = r.content.decode("utf-8")  # strict: raises on anything that is not UTF-8
    bad = BODY_FORBIDDEN.search(text)
    assert bad is None, f"{path}: raw {bad.group()!r}: {text[max(0, bad.start() - 80):bad.start() + 20]!r}"
    for secret in secrets:
        assert secret not in text, f"{path}: a secret from the hostile host's argv is in the body"
    if r.headers.get("content-type", "").startswith("application/json"):
        for s in strings(r.json()):
            assert not FORBIDDEN.search(s.replace("\t", " ")), f"{path}: {s[:200]!r}"


def get_routes(server, hostile) -> list[str]:
    """Every GET route of the OpenAPI schema, path parameters filled with the hostile pids and
    the metric names (hostile mount points among them), plus the pages."""
    spec = get(server, "/openapi.json").json()
    metrics = get(server, "/api/history").json()
    names = metrics.get("metrics", metrics) if isinstance(metrics, dict) else metrics
    names = [n if isinstance(n, str) else n.get("name") for n in names]
    paths: list[str] = []
    for path, ops in spec["paths"].items():
        if "get" not in ops or path == "/stream":  # the stream is read below, for several ticks
            continue
        if "{pid}" in path:
            paths += [path.replace("{pid}", str(p)) for p in hostile.all_pids()]
        elif "{metric}" in path:
            paths += [path.replace("{metric}", quote(n, safe="")) for n in names]
        elif path == "/api/logs":  # source is required (a 422 without it)
            paths += ["/api/logs?source=hostile", "/api/logs?source=hostile&level=err&lines=50",
                      "/api/logs?source=hostile&q=script"]
        elif path == "/api/processes":
            paths += ["/api/processes", "/api/processes?limit=10000", "/api/processes?q=hostile",
                      "/api/processes?status=zombie", "/api/processes?sort=name"]
        else:
            paths.append(path)
    pids = hostile.all_pids()
    paths += ["/dashboard", "/wall", "/processes", "/processes?limit=10000&sort=name",
              f"/processes?open={pids[0]}", "/fragments/processes?q=hostile",
              *[f"/processes/{p}" for p in pids], *[f"/fragments/processes/{p}" for p in pids],
              "/logs?source=hostile", "/logs?source=hostile&level=err"]
    return paths


def test_every_route_answers_valid_text_without_secrets_and_ticks_keep_coming(spawn_server, hostile):
    server = hostile_server(spawn_server, hostile)
    hostile.append_log(b"Nov 26 11:40:00 web1 app[1]: error: late \xff\x1b]0;t\x07 \xe2\x80\xae line")
    watch = SeqWatch(server)
    watch.start()
    try:
        time.sleep(3.5)  # the process table's second read: cpu_percent known, busy one on top
        paths = get_routes(server, hostile)
        assert len(paths) > 40
        for path in paths:
            check_body(path, get(server, path), hostile.secrets)
        # The SSE stream carries several ticks (the busy hostile process in the processes card).
        ticks, chunks = 0, []
        with httpx.stream("GET", server.url + "/stream", headers=headers_for(server), timeout=15) as r:
            assert r.status_code == 200
            deadline = time.monotonic() + 8
            for line in r.iter_lines():
                chunks.append(line)
                ticks += line == "event: tick"
                if ticks >= 4 or time.monotonic() > deadline:
                    break
        assert ticks >= 4, f"{ticks} ticks in 8 s"
        body = "\n".join(chunks)
        assert not BODY_FORBIDDEN.search(body)
        assert not any(s in body for s in hostile.secrets)
        time.sleep(1.0)
    finally:
        watch.stop.set()
        watch.join(15)
    assert watch.errors == []
    assert len(watch.seqs) >= 5
    assert watch.worst <= 3 * 1.0 + 1.0, f"seq stalled {watch.worst:.1f} s"
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "judge failed" not in log, log[-3000:]


def test_pages_in_chromium_with_the_hostile_host_have_no_errors(spawn_server, hostile, watched_page):
    server = hostile_server(spawn_server, hostile)
    time.sleep(3.0)  # the busy hostile process is in the top list
    page = watched_page.page
    extra = headers_for(server)
    if extra:
        page.set_extra_http_headers(extra)
    for path in ("/dashboard", "/wall", "/processes", "/logs?source=hostile"):
        r = page.goto(server.url + path)
        assert r is not None and r.status < 400, (path, r and r.status)
        page.wait_for_timeout(2500)  # a few SSE ticks swapped in
    # The hostile name is shown escaped, as text.
    page.goto(server.url + "/processes?q=hostile")
    assert "\\x1b" in page.locator("#proc-page").inner_text()
    watched_page.assert_clean()


def test_a_critical_check_is_reported_critical_with_the_hostile_culprit(spawn_server, hostile):
    """With the hostile host running, judging still works: CPU over a tiny critical level is
    critical on /api/health (503, never "ok"), in its text form and in /metrics, and the culprit
    is the busy hostile process under its cleaned name."""
    sources = [{"name": "hostile", "kind": "file", "path": str(hostile.log_path)}]
    server = spawn_server({"SERVER_MONITOR_LOG_SOURCES": json.dumps(sources),
                           "SERVER_MONITOR_THRESHOLDS": json.dumps(
                               {"cpu_percent": {"warning": 0.001, "critical": 0.01, "for": 0,
                                                "clear": 0}})})
    busy = hostile.pids["busy"]
    deadline = time.monotonic() + 20
    while True:
        r = get(server, "/api/health")
        body = r.json()
        cpu = [v for v in body["verdicts"] if v["check"] == "cpu_percent"]
        if cpu and cpu[0]["state"] == "critical" and any(p["pid"] == busy for p in cpu[0]["top"]):
            break
        assert time.monotonic() < deadline, f"CPU never judged critical with the culprit: {body}"
        time.sleep(0.5)
    assert r.status_code == 503 and body["status"] == "critical"
    check_body("/api/health", httpx.Response(200, content=r.content, headers=r.headers),
               hostile.secrets)  # 503 is the answer here; the body must still be clean
    [culprit] = [p for p in cpu[0]["top"] if p["pid"] == busy]
    assert "\ufffd" in culprit["name"] or "\\x" in culprit["name"], culprit  # cleaned, not raw
    text = get(server, "/api/health?format=text")
    assert text.status_code == 503 and text.text.startswith("critical:")
    metrics = get(server, "/metrics").text
    assert 'server_monitor_verdict_state{area="cpu",check="cpu_percent",subject=""} 2.0' in metrics
