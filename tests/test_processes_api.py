"""The process table, detail and JSON API against real processes this test starts itself."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from tests.htmlcheck import inline_code

# The child renames itself (its comm, what psutil.name() reads) to argv[1], then sleeps.
CHILD = ("import sys, time\n"
         "open('/proc/self/comm', 'w').write(sys.argv[1])\n"
         "time.sleep(120)\n")
XSS_NAME = '"><img src=x>'  # 13 characters: comm holds at most 15
XSS_ARGS = ["<img src=x onerror=alert(1)>", '"><script>alert(2)</script>']
SECRET_ARGS = ["--password=hunter2", "postgres://app:s3cret@db.example/app", "token=abc123xyz"]
SECRETS = ["hunter2", "s3cret", "abc123xyz"]


@pytest.fixture
def spawn_child(tmp_path):
    children: list[subprocess.Popen] = []

    def spawn(*args: str, name: str = "sm-test-child") -> tuple[subprocess.Popen, str]:
        marker = f"marker-{uuid.uuid4().hex[:10]}"
        # The script comes on stdin ("python -") so the command line stays short: the table
        # shows the whole of it, not a truncated "python -c <script>...".
        p = subprocess.Popen([sys.executable, "-", name, marker, *args], cwd=tmp_path,
                             stdin=subprocess.PIPE)
        children.append(p)
        p.stdin.write(CHILD.encode())
        p.stdin.close()
        deadline = time.monotonic() + 5  # wait until it has renamed itself
        while time.monotonic() < deadline and psutil.Process(p.pid).name() != name[:15]:
            time.sleep(0.02)
        return p, marker

    yield spawn
    for p in children:
        if p.poll() is None:
            p.kill()
        p.wait(5)


@pytest.fixture
def fast_client(make_client):
    """A console whose process table is read every 0.5 s, so a new child shows up quickly."""
    return make_client(tick=0.25, process_interval=0.5)


def wait_listed(client, marker: str, present: bool = True, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get("/api/processes", params={"q": marker, "limit": 10}).json()
        if (body["matched"] > 0) == present:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{marker} {'never appeared' if present else 'never left'}: {body}")
        time.sleep(0.1)


def test_child_appears_its_detail_is_right_and_404_after_kill(fast_client, spawn_child, tmp_path):
    child, marker = spawn_child()
    body = wait_listed(fast_client, marker)
    assert body["matched"] == 1 and body["total"] > 1
    (row,) = body["processes"]
    assert row["pid"] == child.pid and row["ppid"] == os.getpid()
    assert row["name"] == "sm-test-child"
    assert marker in row["cmdline"] and marker in row["command"]
    assert row["username"] == psutil.Process().username()
    assert row["create_time"] == pytest.approx(psutil.Process(child.pid).create_time(), abs=0.01)

    r = fast_client.get(f"/api/processes/{child.pid}", params={"started": row["create_time"]})
    assert r.status_code == 200, r.text
    d = r.json()["process"]
    assert d["pid"] == child.pid and d["ppid"] == os.getpid()
    assert d["cmdline"][-1] == marker and d["cwd"] == str(tmp_path)
    assert os.path.basename(d["exe"]).startswith("python")
    assert d["status"] in ("sleeping", "running") and d["num_threads"] >= 1
    assert d["memory"]["rss"] > 0 and d["memory"]["uss"] > 0
    assert d["io"] is not None and d["num_fds"] >= 3
    assert d["parent"]["pid"] == os.getpid()  # from the sampler's table
    assert d["denied"] == []  # our own child: nothing is hidden from us
    assert 0 <= d["age"] < 60

    # The same PID with another start time is "another process": never shown as this one.
    r = fast_client.get(f"/api/processes/{child.pid}", params={"started": row["create_time"] - 100})
    assert r.status_code == 404 and "now belongs to another process" in r.json()["detail"]

    # And the parent lists it as a child.
    me = fast_client.get(f"/api/processes/{os.getpid()}").json()["process"]
    assert child.pid in [c["pid"] for c in me["children"]]

    child.kill()
    child.wait(5)
    r = fast_client.get(f"/api/processes/{child.pid}")
    assert r.status_code == 404 and str(child.pid) in r.json()["detail"]
    r = fast_client.get(f"/processes/{child.pid}")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert f"no process with PID {child.pid}" in r.text
    wait_listed(fast_client, marker, present=False)


def test_html_in_name_and_command_line_is_text_everywhere(fast_client, spawn_child):
    child, marker = spawn_child(*XSS_ARGS, name=XSS_NAME)
    wait_listed(fast_client, marker)
    # JSON: the exact strings, as data
    api_row = fast_client.get("/api/processes", params={"q": marker}).json()["processes"][0]
    assert api_row["name"] == XSS_NAME and api_row["cmdline"][-2:] == XSS_ARGS
    api_detail = fast_client.get(f"/api/processes/{child.pid}")
    assert api_detail.headers["content-type"] == "application/json"
    assert api_detail.json()["process"]["cmdline"][-2:] == XSS_ARGS
    # HTML: the table, the table with the row expanded, its fragment, and the process's page
    pages = [
        fast_client.get("/processes", params={"q": marker}),
        fast_client.get("/processes", params={"q": marker, "open": str(child.pid)}),
        fast_client.get("/fragments/processes", params={"q": marker, "toggle": child.pid}),
        fast_client.get(f"/processes/{child.pid}"),
        fast_client.get(f"/fragments/processes/{child.pid}"),
    ]
    for r in pages:
        assert r.status_code == 200, r.text[:300]
        html = r.text
        assert "<img src=x" not in html and "<script>alert" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
        assert "&#34;&gt;&lt;img src=x&gt;" in html  # the name
        assert inline_code(html) == []


def test_credentials_are_masked_in_table_detail_and_api(fast_client, spawn_child):
    child, marker = spawn_child(*SECRET_ARGS)
    wait_listed(fast_client, marker)
    answers = {
        "api list": fast_client.get("/api/processes", params={"q": marker}),
        "api detail": fast_client.get(f"/api/processes/{child.pid}"),
        "table": fast_client.get("/processes", params={"q": marker}),
        "expanded row": fast_client.get("/fragments/processes", params={"q": marker, "toggle": child.pid}),
        "page": fast_client.get(f"/processes/{child.pid}"),
        "snapshot": fast_client.get("/api/snapshot"),
    }
    for where, r in answers.items():
        assert r.status_code == 200, where
        for secret in SECRETS:
            assert secret not in r.text, f"{secret} leaked in the {where}"
    assert "--password=***" in answers["expanded row"].text
    assert "postgres://app:***@db.example/app" in answers["page"].text
    assert answers["api detail"].json()["process"]["cmdline"][-3:] == [
        "--password=***", "postgres://app:***@db.example/app", "token=***"]
    # the filter matches the masked text only: a secret cannot be probed
    assert fast_client.get("/api/processes", params={"q": f"{marker} hunter2"}).json()["matched"] == 0


def test_masking_can_be_turned_off(make_client, spawn_child):
    client = make_client(tick=0.25, process_interval=0.5, mask_secrets=False)
    child, marker = spawn_child(*SECRET_ARGS)
    row = wait_listed(client, marker)["processes"][0]
    assert "--password=hunter2" in row["cmdline"]
    assert "--password=hunter2" in client.get(f"/api/processes/{child.pid}").json()["process"]["cmdline"]


def test_expanded_row_follows_its_pid_through_sorts_and_refreshes(fast_client, spawn_child):
    child, marker = spawn_child()
    wait_listed(fast_client, marker)
    current = "http://testserver/processes"
    r = fast_client.get("/fragments/processes", params={"toggle": child.pid},
                        headers={"HX-Current-URL": current})
    assert r.headers["HX-Push-Url"] == f"/processes?open={child.pid}"
    for sort in ("cpu", "pid", "name", "start", "memory"):
        for order in ("asc", "desc"):
            r = fast_client.get("/fragments/processes", params={
                "sort": sort, "order": order, "open": str(child.pid), "limit": 10000})
            html = r.text
            rows = re.findall(r'<tr id="(proc-(?:detail-)?\d+)"', html)
            i = rows.index(f"proc-{child.pid}")
            assert rows[i + 1] == f"proc-detail-{child.pid}", (sort, order)
            detail = re.search(r'<div class="proc-detail" data-pid="(\d+)"', html)
            assert detail and int(detail.group(1)) == child.pid
            assert rows.count(f"proc-detail-{child.pid}") == 1 and html.count('class="proc-detail"') == 1
    # a second toggle closes it, and the URL loses it
    r = fast_client.get("/fragments/processes", params={"open": str(child.pid), "toggle": child.pid},
                        headers={"HX-Current-URL": f"{current}?open={child.pid}"})
    assert "proc-detail-" not in r.text and r.headers["HX-Push-Url"] == "/processes"


def test_process_page_fragment_stops_polling_when_the_process_is_gone(fast_client, spawn_child):
    child, marker = spawn_child()
    started = psutil.Process(child.pid).create_time()
    r = fast_client.get(f"/fragments/processes/{child.pid}", params={"started": started})
    assert r.status_code == 200 and 'hx-trigger="every 2s"' in r.text
    child.kill()
    child.wait(5)
    r = fast_client.get(f"/fragments/processes/{child.pid}", params={"started": started})
    assert r.status_code == 286  # htmx: stop polling
    assert "hx-trigger" not in r.text and f"no process with PID {child.pid}" in r.text


def test_fields_the_console_may_not_read_say_access_denied(fast_client, spawn_child, monkeypatch):
    child, _ = spawn_child()

    def denied(self, *a, **kw):
        raise psutil.AccessDenied(self.pid)

    for method in ("cwd", "open_files", "io_counters", "exe"):
        monkeypatch.setattr(psutil.Process, method, denied)
    d = fast_client.get(f"/api/processes/{child.pid}").json()["process"]
    assert {"cwd", "open_files", "io", "exe"} <= set(d["denied"])
    assert d["cwd"] is None and d["open_files"] is None and d["memory"]["rss"] > 0
    html = fast_client.get(f"/processes/{child.pid}").text
    assert html.count("access denied") >= 4


def test_a_process_that_exits_while_its_detail_is_read_is_a_404(fast_client, spawn_child, monkeypatch):
    child, _ = spawn_child()

    def gone(self, *a, **kw):
        raise psutil.NoSuchProcess(self.pid)

    monkeypatch.setattr(psutil.Process, "num_fds", gone)
    r = fast_client.get(f"/api/processes/{child.pid}")
    assert r.status_code == 404 and "exited while it was being read" in r.json()["detail"]


@pytest.mark.parametrize("url, status, words", [
    ("/api/processes/abc", 422, "pid: Input should be a valid integer"),
    ("/api/processes/-5", 422, "greater than or equal to 1"),
    ("/api/processes/99999999999999999999", 422, "pid"),
    ("/api/processes/4194305", 422, "less than or equal to 4194304"),
    ("/api/processes/4194304", 404, "no process with PID 4194304"),
    ("/api/processes/1?started=nan", 422, "started: Input should be a finite number"),
    ("/api/processes?sort=bogus", 422, "'cpu', 'memory', 'pid', 'name', 'user', 'threads' or 'start'"),
    ("/api/processes?order=sideways", 422, "'asc' or 'desc'"),
    ("/api/processes?status=sleepy", 422, "'running', 'sleeping', 'disk-sleep', 'zombie'"),
    ("/api/processes?limit=0", 422, "limit: Input should be greater than or equal to 1"),
    ("/api/processes?limit=100000", 422, "limit: Input should be less than or equal to 10000"),
    ("/api/processes?q=" + "x" * 201, 422, "q: String should have at most 200 characters"),
])
def test_bad_api_input_is_a_json_4xx_that_says_what_was_wrong(client, url, status, words):
    r = client.get(url)
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    assert words in r.json()["detail"]


@pytest.mark.parametrize("url, status, words", [
    ("/processes/abc", 422, "pid: Input should be a valid integer"),
    ("/processes/0", 422, "greater than or equal to 1"),
    ("/processes/4194304", 404, "no process with PID 4194304"),
    ("/processes?sort=bogus", 422, "sort: Input should be"),
    ("/processes?open=1;DROP", 422, "open: String should match pattern"),
    ("/fragments/processes?toggle=-1", 422, "toggle"),
])
def test_bad_page_input_is_an_html_4xx_that_says_what_was_wrong(client, url, status, words):
    r = client.get(url)
    assert r.status_code == status and r.headers["content-type"].startswith("text/html")
    assert words in r.text


def test_snapshot_carries_the_summary_not_every_row_and_the_schema_documents_the_api(fast_client):
    snap = fast_client.get("/api/snapshot").json()["processes"]
    assert set(snap) == {"total", "threads", "counts", "top_cpu", "top_memory"}
    assert snap["total"] == sum(snap["counts"].values()) > 1
    schema = fast_client.get("/openapi.json").json()
    listing = schema["paths"]["/api/processes"]["get"]
    sort = next(p for p in listing["parameters"] if p["name"] == "sort")
    assert sort["schema"]["enum"] == ["cpu", "memory", "pid", "name", "user", "threads", "start"]
    assert "/api/processes/{pid}" in schema["paths"]
    assert "/processes" not in schema["paths"]  # pages are not the API


def test_dashboard_card_shows_counts_and_the_busiest(fast_client):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # CPU per process needs two reads of the table
        if fast_client.get("/api/snapshot").json()["processes"]["top_cpu"]:
            break
        time.sleep(0.2)
    html = fast_client.get("/dashboard").text
    card = html[html.index('id="processes"'):]
    assert "Processes" in card[:400] and "Top by CPU" in card and 'href="/processes"' in card


@pytest.mark.parametrize("header", ["http://[/processes", "http://x:99999/processes", "\x00",
                                    "/processes?open=%ZZ&limit=1e999"])
def test_malformed_current_url_header_is_ignored_not_a_500(fast_client, header):
    r = fast_client.get("/fragments/processes", params={"toggle": 1}, headers={"HX-Current-URL": header})
    assert r.status_code == 200 and r.headers["HX-Push-Url"].startswith("/processes")


def test_api_process_is_the_documented_alias_of_api_processes(fast_client, spawn_child):
    _, marker = spawn_child()
    wait_listed(fast_client, marker)
    params = {"q": marker, "sort": "pid", "limit": 5}
    alias, real = fast_client.get("/api/process", params=params), fast_client.get("/api/processes", params=params)
    assert alias.status_code == real.status_code == 200
    a, r = alias.json(), real.json()
    assert [p["pid"] for p in a["processes"]] == [p["pid"] for p in r["processes"]] != []
    assert a.keys() == r.keys() and a["sort"] == "pid"
    assert fast_client.get("/api/process", params={"status": "sleepy"}).status_code == 422
    spec = fast_client.get("/openapi.json").json()
    op = spec["paths"]["/api/process"]["get"]
    assert "alias" in op["summary"].lower() and "/api/processes" in op["description"]
    assert op["responses"]["200"] == spec["paths"]["/api/processes"]["get"]["responses"]["200"]


def test_openapi_component_names_are_readable(client):
    names = client.get("/openapi.json").json()["components"]["schemas"]
    assert not [n for n in names if "__" in n]
    assert "ProcessMemory" in names and "Memory" in names  # the detail's and the host's


def test_a_polled_view_is_rendered_once_per_tick_and_as_the_template_renders_it(make_client, monkeypatch):
    """Wall screens and open tabs poll the same view: one rendering per snapshot serves them all,
    and it is the same HTML the per-request rendering gives (open rows, a filter: per request)."""
    from monitor.collectors.processes import ProcessesCollector
    from views import processes

    client = make_client(collectors=[ProcessesCollector()], tick=60)
    url = "/fragments/processes?sort=memory&order=desc"
    renders: list[str] = []
    real = processes.render_block
    monkeypatch.setattr(processes, "render_block", lambda *a, **k: (renders.append(a[2]), real(*a, **k))[1])
    shared = [client.get(url) for _ in range(3)]
    assert renders == ["view"] and all(r.status_code == 200 for r in shared)
    assert len({r.text for r in shared}) == 1 and f'data-pid="{os.getpid()}"' in shared[0].text
    monkeypatch.setattr(processes, "shared_view", lambda state: False)
    assert client.get(url).text == shared[0].text  # TemplateResponse's block: the same bytes
    monkeypatch.undo()
    assert processes.shared_view(processes.TableState(q="py")) is False
    assert processes.shared_view(processes.TableState(open=(1,))) is False
    assert processes.shared_view(processes.TableState(sort="pid", order="asc")) is True


def test_a_request_marks_the_console_as_watched(client):
    """What brings the process table back to its 2 s pace (monitor/sampler.py WATCH_WINDOW)."""
    store = client.app.state.store
    store.seen_at -= 60
    assert not store.watched(10)
    assert client.get("/api/processes?limit=1").status_code == 200
    assert store.watched(10)


def test_the_hot_paths_mark_the_console_as_watched_too(client):
    """/api/snapshot carries the top processes; it is answered before routing (views/hot.py)."""
    store = client.app.state.store
    store.seen_at -= 60
    assert client.get("/api/snapshot").status_code == 200
    assert store.watched(10)
