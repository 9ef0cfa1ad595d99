"""A real Prometheus (Debian's package) scrapes a real console with deploy/prometheus.yml, loads the
console's generated alert rules, and fires an alert for a tiny configured threshold.

Scrape and evaluation run every 1 s, so the whole test takes a few seconds; every wait is bounded.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import ARTIFACTS, IN_CI, ROOT, free_port, stop_process

TINY = {"memory_percent": {"warning": 0.01, "critical": 0.02, "for": 0, "clear": 0}}


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} not found: .ci/run must install Debian's prometheus package")
        pytest.skip(f"{name} not installed (apt-get install -y prometheus)")
    return path


def until(fetch, ok, what: str, timeout: float = 40.0):
    """Poll ``fetch()`` until ``ok(result)``; fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fetch()
            if ok(last):
                return last
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            last = exc
        time.sleep(0.5)
    pytest.fail(f"{what} within {timeout:.0f} s; last answer: {str(last)[:1500]}")


@pytest.fixture
def prometheus(tmp_path):
    """Start Prometheus on a free loopback port with the given config; stopped after the test."""
    procs: list[subprocess.Popen] = []

    def start(config: Path) -> str:
        port = free_port()
        ARTIFACTS.mkdir(exist_ok=True)
        log = open(ARTIFACTS / f"prometheus-{port}.log", "wb")
        procs.append(subprocess.Popen(
            [tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path))
        url = f"http://127.0.0.1:{port}"
        until(lambda: httpx.get(url + "/-/ready", timeout=2).status_code,
              lambda s: s == 200 or procs[-1].poll() is not None, "Prometheus ready", 30)
        assert procs[-1].poll() is None, (ARTIFACTS / f"prometheus-{port}.log").read_text()[-2000:]
        return url

    yield start
    for p in procs:
        stop_process(p)


METRICS_TOKEN = "scrape-only-token-0123456789abcdef"


def query(prom: str, q: str) -> list[dict]:
    r = httpx.get(prom + "/api/v1/query", params={"query": q}, timeout=5)
    r.raise_for_status()
    return r.json()["data"]["result"]


def test_prometheus_scrapes_loads_the_rules_and_fires(spawn_server, prometheus, tmp_path):
    console = spawn_server(env={"SERVER_MONITOR_DATA_DIR": str(tmp_path / "data"),
                                "SERVER_MONITOR_METRICS_TOKEN": METRICS_TOKEN,
                                "SERVER_MONITOR_THRESHOLDS": json.dumps(TINY)})
    target = console.url.removeprefix("http://")

    # The console's rules, as an operator would fetch them; promtool must accept them.
    rules = tmp_path / "alert-rules.yml"
    rules.write_text(console.get("/api/alert-rules").text)
    check = subprocess.run([tool("promtool"), "check", "rules", str(rules)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    n_rules = len(yaml.safe_load(rules.read_text())["groups"][0]["rules"])
    assert f"SUCCESS: {n_rules} rules found" in check.stdout

    # The example scrape config from deploy/, pointed at this console, 1 s intervals.
    config = yaml.safe_load((ROOT / "deploy/prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(rules)]
    [job] = config["scrape_configs"]
    job["static_configs"] = [{"targets": [target]}]
    assert job["authorization"]["credentials_file"]  # the shipped config sends a token
    token_file = tmp_path / "metrics.token"
    token_file.write_text(METRICS_TOKEN + "\n")
    job["authorization"]["credentials_file"] = str(token_file)
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(yaml.safe_dump(config))
    check = subprocess.run([tool("promtool"), "check", "config", str(cfg)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr

    prom = prometheus(cfg)

    # The series are there, with the values the console exports.
    up = until(lambda: query(prom, 'up{job="server-monitor"}'), lambda r: r and r[0]["value"][1] == "1",
               "the console scraped (up == 1)")
    assert up[0]["metric"]["instance"] == target
    for series in ("node_load1", 'node_filesystem_avail_bytes{mountpoint="/"}',
                   "node_memory_MemAvailable_bytes", 'server_monitor_collector_success{collector="cpu"}'):
        assert query(prom, series), f"{series} missing in Prometheus"
    verdict = query(prom, 'server_monitor_verdict_state{check="memory_percent"}')
    assert verdict and verdict[0]["value"][1] == "2"  # critical, as the console judged it

    # The rules loaded and evaluate without error.
    def rule_groups():
        return httpx.get(prom + "/api/v1/rules", timeout=5).json()["data"]["groups"]
    groups = until(rule_groups, lambda g: g and all(r.get("health") == "ok" for r in g[0]["rules"]),
                   "every rule evaluated healthy")
    assert len(groups[0]["rules"]) == n_rules

    # And the tiny threshold fires, critical and warning, for this console.
    def alerts():
        return httpx.get(prom + "/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    firing = until(alerts, lambda a: {(x["labels"]["alertname"], x["labels"]["severity"])
                                      for x in a if x["state"] == "firing"} >=
                   {("ServerMonitorMemoryPercent", "critical"), ("ServerMonitorMemoryPercent", "warning")},
                   "ServerMonitorMemoryPercent firing")
    crit = next(x for x in firing if x["labels"]["severity"] == "critical" and x["state"] == "firing")
    assert crit["labels"]["instance"] == target and crit["labels"]["check"] == "memory_percent"
    assert "memory used" in crit["annotations"]["summary"]
    # Prometheus and the console agree: whatever fires is a check the console judges not ok.
    console_bad = {v["check"] for v in httpx.get(console.url + "/api/health").json()["verdicts"]}
    fired = {x["labels"]["check"] for x in alerts() if x["state"] == "firing"}
    assert fired <= console_bad, (fired, console_bad)


def test_promtool_unknown_verdicts_fire_and_judged_ones_do_not(tmp_path):
    """Verdicts fail closed in Prometheus too: a check the console reports as unknown (3) for
    5 minutes fires ServerMonitorVerdictUnknown; one judged ok or critical does not (promtool's
    own rule unit tests on the shipped rule file)."""
    rules = Path(__file__).resolve().parent.parent / "deploy" / "alert-rules.yml"
    (tmp_path / "unknown_test.yml").write_text(f"""
rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'server_monitor_verdict_state{{instance="a", job="sm", area="disks", check="disks_percent", subject="/nfs"}}'
        values: '3x10'
      - series: 'server_monitor_verdict_state{{instance="a", job="sm", area="cpu", check="cpu_percent", subject=""}}'
        values: '0x5 2x5'
    alert_rule_test:
      - eval_time: 4m
        alertname: ServerMonitorVerdictUnknown
        exp_alerts: []
      - eval_time: 6m
        alertname: ServerMonitorVerdictUnknown
        exp_alerts:
          - exp_labels: {{severity: warning, instance: a, job: sm, area: disks, check: disks_percent, subject: /nfs}}
            exp_annotations:
              summary: "a: disks_percent /nfs cannot be judged"
              description: "the console cannot read or judge this; see /api/health for why"
""")
    run = subprocess.run([tool("promtool"), "test", "rules", str(tmp_path / "unknown_test.yml")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
