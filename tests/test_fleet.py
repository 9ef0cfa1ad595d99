"""/fleet against a real Prometheus (Debian's package) scraping three real consoles on loopback.

    calm      every check off but memory_percent, whose levels it cannot reach: ok
    critical  every check off but memory_percent at 0.01/0.02 %: critical, with its value
    doomed    calm, then stopped: down, with Prometheus' scrape error

A fourth console with prometheus_url set lists them with those states, reasons, ages and links;
Prometheus' own job is not listed (it is no console). The Grafana dashboard's queries
(deploy/grafana/) run against the same Prometheus and each returns data. N viewers cost one
poll per interval, counted at Prometheus (prometheus_http_requests_total) and at a stand-in
server that also injects the faults (refused, timeout, 5xx, bad JSON, too large, too many).
Scrapes every 1 s, polls every 1 s: a few seconds per test, every wait bounded.
"""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from monitor.fleet import Problem, console_url, shape
from monitor.fleet_poll import FleetPoller, Prometheus, PrometheusError
from monitor.thresholds import CHECKS
from tests.conftest import ARTIFACTS, AUTH, ROOT, _spawn, free_port
from tests.htmlcheck import inline_code
from tests.test_prometheus import query, tool, until

METRICS_TOKEN = "fleet-scrape-token-0123456789abcdef"
OFF = {name: {"enabled": False} for name in CHECKS}
CALM = {**OFF, "memory_percent": {"warning": 99.98, "critical": 99.99, "for": 0}}
CRITICAL = {**OFF, "memory_percent": {"warning": 0.01, "critical": 0.02, "for": 0, "clear": 0}}
GRAFANA = ROOT / "deploy" / "grafana"


def console(thresholds: dict, tmp: Path, **env):
    return _spawn({"SERVER_MONITOR_METRICS_TOKEN": METRICS_TOKEN,
                   "SERVER_MONITOR_DATA_DIR": str(tmp), "SERVER_MONITOR_THRESHOLDS": json.dumps(thresholds),
                   **env})


class Prom:
    """Prometheus on a loopback port scraping ``targets`` (job server-monitor) and itself."""

    def __init__(self, tmp: Path, targets: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        token = tmp / "metrics.token"
        token.write_text(METRICS_TOKEN + "\n")
        config = yaml.safe_load((ROOT / "deploy/prometheus.yml").read_text())  # the shipped example
        config["global"].update(scrape_interval="1s", evaluation_interval="1s")
        config.pop("rule_files", None)
        [job] = config["scrape_configs"]
        job["static_configs"] = [{"targets": targets}]
        job["authorization"]["credentials_file"] = str(token)
        config["scrape_configs"].append({"job_name": "prometheus",
                                         "static_configs": [{"targets": [f"127.0.0.1:{self.port}"]}]})
        cfg = tmp / "prometheus.yml"
        cfg.write_text(yaml.safe_dump(config))
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = ARTIFACTS / f"prometheus-fleet-{self.port}.log"
        with open(self.log, "wb") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [tool("prometheus"), f"--config.file={cfg}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
        until(lambda: httpx.get(self.url + "/-/ready", timeout=2).status_code,
              lambda s: s == 200 or self.proc.poll() is not None, "Prometheus ready", 30)
        assert self.proc.poll() is None, self.log.read_text()[-2000:]

    def up(self, target: str) -> str | None:
        r = query(self.url, f'up{{job="server-monitor",instance="{target}"}}')
        return r[0]["value"][1] if r else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def target(server) -> str:
    return server.url.removeprefix("http://")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Three consoles scraped by Prometheus, the third one stopped; a fourth showing /fleet."""
    tmp = tmp_path_factory.mktemp("fleet")
    servers, prom = [], None
    try:
        calm, critical, doomed = (console(t, tmp / n) for n, t in
                                  (("calm", CALM), ("critical", CRITICAL), ("doomed", CALM)))
        servers += [calm, critical, doomed]
        prom = Prom(tmp, [target(s) for s in servers])
        for s in servers:  # each scraped, with its judgment, before the third one goes
            until(lambda s=s: query(prom.url, f'server_monitor_state{{instance="{target(s)}"}}'),
                  bool, f"{target(s)} scraped with its state")
        doomed.stop()
        until(lambda: prom.up(target(doomed)), lambda v: v == "0", "the stopped console down")
        viewer = _spawn({"SERVER_MONITOR_PROMETHEUS_URL": prom.url, "SERVER_MONITOR_FLEET_INTERVAL": "1",
                         "SERVER_MONITOR_DATA_DIR": str(tmp / "viewer")})
        servers.append(viewer)
        yield {"calm": calm, "critical": critical, "doomed": doomed, "viewer": viewer, "prom": prom}
    finally:
        for s in servers:
            s.stop()
        if prom is not None:
            prom.stop()


def rows(html: str) -> dict[str, dict]:
    """/fleet's rows by instance: state, reasons, why, age (s) and link (the markup is ours, so a
    regex over its classes is enough)."""
    out = {}
    for m in re.finditer(r'<tr class="fleet-row[^"]*" data-instance="([^"]+)" data-job="([^"]*)" '
                         r'data-state="([^"]+)">(.*?)</tr>', html, re.DOTALL):
        body = m[4]
        age = re.search(r'data-age="([0-9.\-]+)"', body)
        link = re.search(r'<a href="([^"]+)"', body)
        out[m[1]] = {"job": m[2], "state": m[3],
                     "reasons": re.findall(r'<span class="reason-text">([^<]*)</span>', body),
                     "why": "".join(re.findall(r'<p class="fleet-why">([^<]*)</p>', body)),
                     "age": float(age[1]) if age else None, "link": link[1] if link else None}
    return out


def test_fleet_lists_the_three_consoles_with_states_reasons_ages_and_links(fleet):
    viewer, prom = fleet["viewer"], fleet["prom"]
    page = viewer.get("/fleet")
    assert page.status_code == 200, page.text[:500]
    assert 'sse-connect="/fleet/stream"' in page.text and f"from Prometheus at {prom.url}" in page.text
    assert inline_code(page.text) == [] and "script-src 'self'" in page.headers["content-security-policy"]
    got = rows(page.text)
    calm, critical, doomed = (target(fleet[n]) for n in ("calm", "critical", "doomed"))
    assert set(got) == {calm, critical, doomed}, got  # Prometheus' own job is not a console
    assert got[calm]["state"] == "ok" and got[calm]["reasons"] == []
    assert "its one check ok" in page.text
    assert got[critical]["state"] == "critical"
    [reason] = got[critical]["reasons"]
    value = float(re.fullmatch(r"memory used ([0-9.]+) %, critical at 0.02 %", reason)[1])
    own = fleet["critical"].get("/api/health").json()  # what that console says of itself
    assert own["status"] == "critical" and abs(value - own["verdicts"][0]["value"]) < 10, (reason, own)
    assert got[doomed]["state"] == "down" and "connection refused" in got[doomed]["why"], got[doomed]
    for t, row in got.items():
        assert row["job"] == "server-monitor"
        assert row["link"] == f"http://{t}/dashboard"
        assert row["age"] is not None and -1 <= row["age"] <= 10, row  # scraped every second
    # worst first: down, then critical, then ok
    assert list(got) == [doomed, critical, calm]
    assert httpx.get(got[calm]["link"], headers=AUTH, timeout=10).status_code == 200  # the link works


def test_fleet_stream_pushes_each_poll_and_the_nav_links_it(fleet):
    viewer = fleet["viewer"]
    assert 'href="/fleet"' in viewer.get("/dashboard").text  # configured and full scope: linked
    seqs = []
    with httpx.stream("GET", viewer.url + "/fleet/stream", headers=AUTH, timeout=10) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        deadline = time.monotonic() + 10
        for line in r.iter_lines():
            if line.startswith("id: "):
                seqs.append(int(line[4:]))
            if len(seqs) == 3 or time.monotonic() > deadline:
                break
    assert len(seqs) == 3 and seqs == sorted(set(seqs)), seqs  # a new answer about every second


def test_the_display_scope_does_not_see_the_fleet(fleet):
    viewer = fleet["viewer"]
    anonymous = httpx.get(viewer.url + "/fleet", headers={"Accept": "text/html"}, timeout=10)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert httpx.get(viewer.url + "/fleet/stream", timeout=10).status_code == 401
    assert 'href="/fleet"' not in httpx.get(viewer.url + "/dashboard", timeout=10).text


def test_viewers_share_one_poll_per_interval_at_the_real_prometheus(fleet):
    """Five open /fleet streams for 6 s: Prometheus gets about 6 polls of 4 queries, not 30."""
    viewer, prom = fleet["viewer"], fleet["prom"]

    def served() -> float:
        text = httpx.get(prom.url + "/metrics", timeout=5).text
        return sum(float(v) for v in re.findall(
            r'^prometheus_http_requests_total\{code="200",handler="/api/v1/query"\} (\S+)$', text, re.MULTILINE))

    with open_streams(viewer.url + "/fleet/stream", 5):
        before, t0 = served(), time.monotonic()
        time.sleep(6)
        after, seconds = served(), time.monotonic() - t0
    polls = (after - before) / 4  # monitor.fleet.QUERIES: four queries a poll
    print(f"5 viewers, {seconds:.1f} s: {after - before:.0f} queries at Prometheus = {polls:.1f} polls")
    assert polls <= seconds / 1 + 2, (after - before, seconds)  # one poll a second, not five
    assert polls >= 3, (after - before, seconds)  # and it does poll while watched


def test_grafana_dashboard_queries_return_data(fleet):
    prom = fleet["prom"]
    dash = json.loads((GRAFANA / "dashboards" / "server-monitor-fleet.json").read_text())
    exprs = [t["expr"] for p in panels(dash) for t in p.get("targets", []) if t.get("expr")]
    assert len(exprs) >= 6
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert {"datasource", "job", "instance"} <= set(variables)
    for name in ("job", "instance"):  # label_values(<selector>, <label>): the selector has the label
        q = variables[name]["query"]
        q = q["query"] if isinstance(q, dict) else q
        m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", q)
        assert m, q
        found = query(prom.url, substitute(m[1]))
        assert found and all(m[2] in s["metric"] for s in found), (q, found)
    for expr in exprs:
        answer = query(prom.url, substitute(expr))
        assert answer, f"no data for {expr!r}"
    for p in panels(dash):  # every panel reads the chosen datasource
        if p["type"] != "row":
                assert p["datasource"]["uid"] == "${datasource}", p["title"]


def test_grafana_provisioning_example_points_at_the_dashboard():
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "server-monitor.yml").read_text())
    [ds] = sources["datasources"]
    assert sources["apiVersion"] == 1 and ds["type"] == "prometheus" and ds["url"].startswith("http")
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "server-monitor.yml").read_text())
    [provider] = providers["providers"]
    assert providers["apiVersion"] == 1 and provider["type"] == "file"
    assert Path(provider["options"]["path"]).name == "dashboards"  # where the JSON is installed
    assert (GRAFANA / "dashboards" / "server-monitor-fleet.json").is_file()


def test_a_prometheus_that_stops_is_said_with_when_it_last_answered(tmp_path, spawn_server):
    calm, prom = console(CALM, tmp_path / "calm"), None
    try:
        prom = Prom(tmp_path, [target(calm)])
        until(lambda: prom.up(target(calm)), lambda v: v == "1", "the console scraped")
        viewer = spawn_server({"SERVER_MONITOR_PROMETHEUS_URL": prom.url,
                               "SERVER_MONITOR_FLEET_INTERVAL": "1",
                               "SERVER_MONITOR_DATA_DIR": str(tmp_path / "viewer")})
        assert rows(viewer.get("/fleet").text)[target(calm)]["state"] == "ok"
        prom.stop()
        with open_streams(viewer.url + "/fleet/stream", 1):  # someone watches: it polls again
            page = until(lambda: viewer.get("/fleet").text, lambda t: "does not answer" in t,
                         "/fleet says Prometheus does not answer", 15)
    finally:
        calm.stop()
        if prom is not None:
            prom.stop()
    assert f"Prometheus at {prom.url} does not answer: " in page
    assert "cannot reach it: connection refused" in page
    assert re.search(r"It last answered at <time [^>]*>\d\d:\d\d:\d\d", page), page
    assert rows(page)[target(calm)]["state"] == "ok"  # the last list, marked as such
    assert "fleet-stale" in page


def test_without_prometheus_url_the_page_says_how_and_nothing_is_loaded(client):
    page = client.get("/fleet")
    assert page.status_code == 200
    assert "SERVER_MONITOR_PROMETHEUS_URL=http://127.0.0.1:9090" in page.text
    assert 'prometheus_url = "http://127.0.0.1:9090"' in page.text
    assert inline_code(page.text) == []
    assert 'href="/fleet"' not in client.get("/dashboard").text
    stream = client.get("/fleet/stream")
    assert stream.status_code == 404 and "set prometheus_url" in stream.text
    # A console without a fleet pays nothing: no poller, and neither httpx nor the fleet's
    # modules are imported (issue 19).
    code = ("import sys; from main import create_app; from monitor.settings import Settings;"
            "app = create_app(Settings(token='t' * 32)); assert app.state.fleet is None;"
            "print([m in sys.modules for m in ('httpx', 'monitor.fleet', 'monitor.fleet_poll')])")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert run.stdout.strip() == "[False, False, False]", run.stdout + run.stderr


@pytest.mark.parametrize("bad", ["ftp://prom:9090", "javascript:alert(1)", "127.0.0.1:9090",
                                 "http://prom:9090/?x=1", "http://"])
def test_prometheus_url_must_be_http(bad):
    from pydantic import ValidationError

    from monitor.settings import Settings
    with pytest.raises(ValidationError, match="must be an http:// or https:// URL"):
        Settings(prometheus_url=bad)
    assert Settings(prometheus_url="https://prom.example:9090/").prometheus_url == "https://prom.example:9090"


# --- shaping on literal input ---------------------------------------------------------------

def t(instance, health="up", job="sm", error="", url=None):
    return {"labels": {"job": job, "instance": instance}, "health": health, "lastError": error,
            "scrapeUrl": url or f"http://{instance}/metrics", "lastScrape": "2026-12-01T23:10:05.5Z"}


def m(name="", **labels):
    return ({"__name__": name, "job": "sm", **labels} if name else {"job": "sm", **labels})


def test_shape_fails_closed_and_orders_worst_first():
    targets = [t("a:1"), t("b:1"), t("c:1", "down", error='Get "http://c:1/metrics": connection refused'),
               t("d:1"), t("e:1", "unknown"), t("n:1", job="node"), t("f:1", "down", job="node")]
    answers = {
        "seen": [(m(instance=i), 1.0e9) for i in ("a:1", "b:1", "c:1", "d:1", "e:1")],
        "state": [(m(instance="a:1"), 0.0), (m(instance="b:1"), 2.0), (m(instance="d:1"), 0.0)],
        "checks": [(m(instance="a:1"), 5.0), (m(instance="b:1"), 5.0)],  # d exports none
        "bad": [(m("server_monitor_verdict_state", instance="b:1", area="disks", check="disks_percent",
                   subject="/srv"), 2.0),
                (m("server_monitor_check_value", instance="b:1", area="disks", check="disks_percent",
                   subject="/srv"), 97.0),
                (m("server_monitor_check_threshold", instance="b:1", area="disks", check="disks_percent",
                   subject="/srv", level="critical"), 95.0),
                (m("server_monitor_verdict_state", instance="b:1", area="cpu", check="cpu_percent",
                   subject=""), 3.0)],
    }
    consoles = shape(targets, answers)
    by = {c.instance: c for c in consoles}
    assert set(by) == {"a:1", "b:1", "c:1", "d:1", "e:1"}  # node's targets are no consoles
    assert by["a:1"].state == "ok" and by["a:1"].checks == 5
    assert by["b:1"].state == "unknown"  # an unknown verdict is worse than critical
    assert [p.reason for p in by["b:1"].problems] == ["CPU busy: cannot be judged",
                                                      "space used /srv 97 %, critical at 95 %"]
    assert by["c:1"].state == "down" and "connection refused" in by["c:1"].why
    assert by["d:1"].state == "unknown" and by["d:1"].why == "exports no verdicts"
    assert by["e:1"].state == "unknown" and by["e:1"].why == "not scraped yet"
    assert [c.state for c in consoles] == ["down", "unknown", "unknown", "unknown", "ok"]
    assert by["a:1"].url == "http://a:1/dashboard" and by["a:1"].scraped_at == 1796166605.5


def test_shape_cleans_hostile_labels_and_links():
    hostile = "evil\x1b[31m\u202e:1"
    targets = [t(hostile, url="javascript:alert(1)//metrics")]
    answers = {"seen": [(m(instance=hostile), 1.0)], "state": [(m(instance=hostile), 7.0)],
               "checks": [(m(instance=hostile), 1.0)]}
    [c] = shape(targets, answers)
    assert "\x1b" not in c.instance and "\u202e" not in c.instance
    assert c.url == "" and c.state == "unknown"  # a state value outside 0..3 is not judged
    assert console_url("http://[::1]:8000/sm/metrics") == "http://[::1]:8000/sm/dashboard"
    assert Problem("memory_percent", "memory", "", "warning", 91.0, 90.0, 95.0).reason == \
        "memory used 91 %, warning at 90 %"


# --- the poller: one poll per interval for all viewers, and the faults ----------------------

class StandIn(BaseHTTPRequestHandler):
    """A loopback stand-in for Prometheus' API: valid answers, or the fault in ``server.mode``."""

    def do_GET(self):  # http.server's name
        self.server.requests.append(self.path)
        mode = self.server.mode
        if mode == "slow":
            time.sleep(2)
        if mode == "500":
            return self._send(500, b"upstream broke", "text/plain")
        if mode == "503":
            return self._send(503, json.dumps({"status": "error", "error": "query timed out"}).encode())
        if mode == "garbage":
            return self._send(200, b"<html>not json")
        if mode == "huge":
            return self._send(200, b"[" + b"0," * (3 * 2**20) + b"0]")
        if self.path.startswith("/api/v1/targets"):
            data = {"activeTargets": [t("a:1")]}
        else:
            n = 6000 if mode == "many" else 1
            data = {"resultType": "vector",
                    "result": [{"metric": {"job": "sm", "instance": "a:1"}, "value": [1, "0"]}] * n}
        self._send(200, json.dumps({"status": "success", "data": data}).encode())

    def _send(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@contextmanager
def stand_in(mode="ok"):
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    server.mode, server.requests, server.daemon_threads = mode, [], True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def open_streams(url: str, n: int):
    """``n`` SSE viewers reading ``url`` in threads until the block ends."""
    stop = threading.Event()
    opened = threading.Barrier(n + 1, timeout=20)

    def view():
        with httpx.stream("GET", url, headers=AUTH, timeout=httpx.Timeout(10, read=3)) as r:
            assert r.status_code == 200
            opened.wait()
            try:
                for _ in r.iter_raw():
                    if stop.is_set():
                        return
            except httpx.ReadTimeout:
                return
    threads = [threading.Thread(target=view, daemon=True) for _ in range(n)]
    for th in threads:
        th.start()
    opened.wait()
    try:
        yield
    finally:
        stop.set()
        for th in threads:
            th.join(10)


@pytest.mark.parametrize("viewers", [1, 8])
def test_n_viewers_cause_one_poll_per_interval_and_none_after_they_leave(serve_app, viewers):
    with stand_in() as (server, url):
        from main import create_app
        from tests.conftest import make_settings
        app = create_app(make_settings(prometheus_url=url, fleet_interval=1))
        base = serve_app(app)
        with open_streams(base + "/fleet/stream", viewers):
            start, t0 = len(server.requests), time.monotonic()
            time.sleep(4.2)
            made, seconds = len(server.requests) - start, time.monotonic() - t0
        polls = made / 5  # targets + four queries
        print(f"{viewers} viewers, {seconds:.1f} s: {made} requests = {polls:.1f} polls")
        assert 3 <= polls <= seconds + 1, (made, seconds, viewers)  # about one a second, for all
        until(lambda: app.state.fleet.viewers, lambda n: n == 0, "every viewer gone", 10)
        time.sleep(0.5)  # a poll already under way may still finish
        after = len(server.requests)
        time.sleep(2.5)
        assert len(server.requests) == after, "still polling with nobody watching"


@pytest.mark.parametrize("mode, said", [
    ("refused", "cannot reach it: connection refused"),
    ("slow", "no answer within 0.5 s"),
    ("500", "HTTP 500: upstream broke"),
    ("503", "HTTP 503: query timed out"),
    ("garbage", "not Prometheus' JSON"),
    ("huge", "answer too large"),
    ("many", "too many series (6000, at most 5000)"),
])
def test_a_prometheus_that_does_not_answer_is_said_so(mode, said):
    # Only the slow stand-in is meant to miss the deadline; the others get a deadline a busy
    # machine cannot miss (6,000 series take the stand-in a while to serialise), so the fault
    # under test is the one said.
    timeout = 0.5 if mode == "slow" else 5

    async def ask(url):
        return await Prometheus(url, timeout=timeout, max_bytes=2**20).fleet()
    with stand_in(mode) as (_server, url):
        if mode == "refused":
            url = f"http://127.0.0.1:{free_port()}"
        t0 = time.monotonic()
        with pytest.raises(PrometheusError) as err:
            asyncio.run(ask(url))
        assert said in str(err.value)
        assert time.monotonic() - t0 < timeout + 2.5  # bounded, whatever the fault


def test_the_poller_keeps_the_last_list_and_when_it_answered():
    answers = iter([([t("a:1")], {"seen": [(m(instance="a:1"), 1.0)], "state": [(m(instance="a:1"), 0.0)],
                                   "checks": [(m(instance="a:1"), 3.0)]}), PrometheusError("no answer within 5 s")])

    async def source():
        got = next(answers)
        if isinstance(got, Exception):
            raise got
        return got

    async def run():
        poller = FleetPoller(source, interval=60)
        first = await poller.current()
        assert await poller.current() is first  # fresher than the interval: no second poll
        second = await poller.poll()
        return first, second
    first, second = asyncio.run(run())
    assert first.error is None and first.consoles[0].state == "ok"
    assert second.error == "no answer within 5 s" and second.answered_at == first.polled_at
    assert second.consoles == first.consoles and second.seq == first.seq + 1


def panels(dash):
    for p in dash["panels"]:
        yield p
        yield from p.get("panels", [])


def substitute(expr: str) -> str:
    """Grafana's variables as a viewer with "All" selected would send them."""
    for var, value in (("${job}", "server-monitor"), ("$job", "server-monitor"),
                       ("${instance}", ".*"), ("$instance", ".*"), ("${check}", ".*"), ("$check", ".*"),
                       ("$__rate_interval", "30s"), ("$__interval", "15s"), ("$__range", "5m")):
        expr = expr.replace(var, value)
    assert "$" not in expr, expr
    return expr
