"""The console as a drop-in for node_exporter, judged by queries it did not write.

A real Prometheus scrapes the console (job "console") and Debian's node_exporter (job "node",
only the collectors that read /proc and /sys: those of issue 13's list) side by side on loopback,
every 2 s (a 1 s timeout is too tight on a busy 2-core runner), and loads node_exporter's own
node-mixin recording rules. Every query of the mixin (tests/node_mixin/: its alert rules,
recording rules and dashboard targets, verbatim at the commit named in tests/node_mixin/README.md)
is evaluated for each job with the mixin's template variables made concrete ($instance: that
job's target, $cluster: ".*", $__rate_interval: 20s).

What must hold, per query: it answers (non-empty) for the console iff it answers for
node_exporter; where both answer, they share series (same labels but job/instance) and their
values agree (rates, predictions and the mixin's rate rules: within 25 % or 2 % of the query's
largest value; gauges: within 5 % or 1 % of it, as memory moves between two scrapes on a busy
host). The two are scraped at different instants (up to 2 s apart), so a query that disagrees is
evaluated again, twice, 2 s apart: noise passes on a later try, a wrong unit or a missing series
never does. ``NOT_OURS`` names the only queries allowed to differ.

The share of queries each job answers is written to test-artifacts/node-compat.json (the figures
for issue 13's note). Bounded: ~30 s of scraping, then three passes at most; every wait has a
deadline.
"""
from __future__ import annotations

import json
import math
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import ARTIFACTS, free_port, stop_process
from tests.test_prometheus import METRICS_TOKEN, prometheus, query, tool, until  # noqa: F401

MIXIN = Path(__file__).parent / "node_mixin"
# node_exporter's collectors for what issue 13 lists (all read /proc or /sys; no textfile, systemd)
COLLECTORS = ("cpu", "meminfo", "loadavg", "time", "stat", "vmstat", "pressure", "filesystem",
              "diskstats", "netdev", "netclass", "netstat", "sockstat", "uname", "os", "entropy",
              "filefd")
RATE_INTERVAL = "20s"
SCRAPES = 15  # every 2 s: 30 s of data, 10 samples in each $__rate_interval
# Queries that may answer for node_exporter alone, and why.
NOT_OURS = {"node_exporter_build_info": "node_exporter's own build; the console is not node_exporter",
            "node_systemd_": "node_exporter runs here without its systemd collector (issue 13: /proc and /sys "
                             "only); the console's services area answers these when a unit has failed"}
RATE_FUNCS = re.compile(r"\b(rate|irate|increase|deriv|predict_linear)\(|:rate")  # or a rule of rates
# Per second: two answers of rates closer than this agree (judge()). One event more or less
# between the two scrapers' instants, over the SCRAPES x 2 s a rate sees (a major page fault on
# the host read 0.010/s for node_exporter, 0.017/s for the console), is no difference.
RATE_FLOOR = 1 / (SCRAPES * 2)
AGAINST_ZERO = re.compile(r"(!=|>)\s*0\b(?!\.\d*[1-9])")  # a filter on "not zero"


def config() -> dict[str, object]:
    """config.libsonnet's _config as a dict (strings and numbers: all the mixin interpolates)."""
    text = (MIXIN / "config.libsonnet").read_text()
    out: dict[str, object] = {}
    for key, s, n in re.findall(r"^\s*(\w+): (?:'([^']*)'|(\d+)),", text, re.MULTILINE):
        out[key] = s if n == "" else int(n)
    return out


def _strings(text: str) -> list[tuple[str, str]]:
    """(preceding text, string) for every ||| block and '...' string of a libsonnet file."""
    out = []
    for m in re.finditer(r"\|\|\|\n(.*?)\n\s*\|\|\||'((?:[^'\\\n]|\\.)*)'", text, re.DOTALL):
        out.append((text[max(0, m.start() - 12):m.start()], m[1] if m[1] is not None else m[2]))
    return out


def mixin_queries() -> tuple[list[str], list[dict]]:
    """The mixin's PromQL, interpolated with its config: (queries, recording rules)."""
    cfg = config()
    queries, rules = [], []
    for f in ("alerts.libsonnet", "rules.libsonnet", "prom-mixin.libsonnet", "use.libsonnet"):
        record = None
        for before, s in _strings((MIXIN / f).read_text()):
            if "{{" in s or not re.search(r"\bnode_|instance(_device)?:", s):
                continue  # annotations, legends, panel titles
            s = s % cfg if "%(" in s else s
            if "record:" in before:
                record = s
                continue
            if record is not None and f == "rules.libsonnet":
                rules.append({"record": record, "expr": s})
                record = None
            queries.append(s.strip())
    return list(dict.fromkeys(queries)), rules


def concrete(q: str, job: str, instance: str) -> str:
    return (q.replace('job="node"', f'job="{job}"').replace("$instance", instance)
            .replace("$cluster", ".*").replace("$__rate_interval", RATE_INTERVAL))


def answer(prom: str, q: str, job: str) -> dict[tuple, float]:
    r = httpx.get(prom + "/api/v1/query", params={"query": q}, timeout=10).json()
    assert r["status"] == "success", (q, r)
    data = r["data"]
    rows = data["result"] if data["resultType"] == "vector" else [{"metric": {}, "value": data["result"]}]
    return {tuple(sorted((k, v) for k, v in x["metric"].items() if k not in ("job", "instance"))):
            float(x["value"][1]) for x in rows if x["metric"].get("job", job) == job}


def near_zero_one_sided(q: str, ne: dict, me: dict) -> bool:
    """One side answers, the other not, only because a rate near zero was filtered on "not zero".

    "rate(...) != 0" makes an answer of a rate just above zero and none of one at zero: one I/O
    tick more or less between the two scrapers' instants (a disk's io_time rate of 0.0001 s/s for
    one, 0 for the other). Below the floor that is the instants, not a unit.
    """
    present = ne or me
    return (bool(ne) != bool(me) and bool(RATE_FUNCS.search(q)) and bool(AGAINST_ZERO.search(q))
            and all(abs(v) <= RATE_FLOOR for v in present.values()))


def judge(q: str, ne: dict, me: dict) -> str | None:
    """None when the two answers agree, else what differs."""
    if bool(ne) != bool(me):
        if near_zero_one_sided(q, ne, me):
            return None
        return f"answers for {'node_exporter' if ne else 'the console'} only"
    common = ne.keys() & me.keys()
    if ne and not common:
        return f"no common series: node_exporter {sorted(ne)[:3]}, console {sorted(me)[:3]}"
    rel, scale = (0.25, 0.02) if RATE_FUNCS.search(q) else (0.05, 0.01)
    # Two scrapers read the host at different instants: a rate near zero (a disk's weighted I/O
    # time of 0.0004 s/s against 0.0007 while another job wrote a file) differs by more than any
    # share of itself. Below this, per second, a rate is the same idle host either way.
    floor = RATE_FLOOR if RATE_FUNCS.search(q) else 0.0
    top = max((abs(v) for v in (*ne.values(), *me.values()) if not math.isnan(v)), default=0.0)
    for k in common:
        a, b = ne[k], me[k]
        if a != b and abs(a - b) > max(rel * max(abs(a), abs(b)), scale * top, floor):
            return f"{dict(k)}: node_exporter {a:g}, console {b:g}"
    return None


@pytest.fixture
def node_exporter(tmp_path):
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"node-exporter-{port}.log", "wb")  # noqa: SIM115 (open while it runs)
    proc = subprocess.Popen([tool("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{port}",
                             "--collector.disable-defaults", *(f"--collector.{c}" for c in COLLECTORS)],
                            stdout=log, stderr=subprocess.STDOUT)
    target = f"127.0.0.1:{port}"
    until(lambda: httpx.get(f"http://{target}/metrics", timeout=2).status_code,
          lambda s: s == 200 or proc.poll() is not None, "node_exporter answering", 20)
    assert proc.poll() is None, "node_exporter exited"
    yield target
    stop_process(proc)
    log.close()


def test_the_node_mixin_answers_alike_for_the_console_and_node_exporter(
        spawn_server, prometheus, node_exporter, tmp_path):  # noqa: F811
    queries, rules = mixin_queries()
    assert len(queries) > 80 and len(rules) >= 10, (len(queries), len(rules))  # the extraction worked
    console = spawn_server(env={"SERVER_MONITOR_DATA_DIR": str(tmp_path / "data"),
                                "SERVER_MONITOR_METRICS_TOKEN": METRICS_TOKEN})
    me = console.url.removeprefix("http://")
    (tmp_path / "token").write_text(METRICS_TOKEN)
    for r in rules:  # the mixin's recording rules, for both jobs
        r["expr"] = r["expr"].replace('job="node"', 'job=~"node|console"')
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "node-exporter.rules",
                                                                    "rules": rules}]}))
    cfg = {"global": {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "2s"},
           "rule_files": [str(tmp_path / "rules.yml")],
           "scrape_configs": [{"job_name": "node", "static_configs": [{"targets": [node_exporter]}]},
                              {"job_name": "console", "static_configs": [{"targets": [me]}],
                               "authorization": {"credentials_file": str(tmp_path / "token")}}]}
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(cfg))
    prom = prometheus(tmp_path / "prometheus.yml")
    until(lambda: query(prom, "sum_over_time(up[1m])"),
          lambda r: len(r) == 2 and min(float(x["value"][1]) for x in r) >= SCRAPES,
          f"{SCRAPES} good scrapes of both", SCRAPES * 2 + 30)

    # Every query once; those that differ again 2 s later, twice (noise passes, a wrong unit never).
    results, pending = {}, queries
    for attempt in range(3):
        time.sleep(2 * (attempt > 0))
        for q in pending:
            ne = answer(prom, concrete(q, "node", node_exporter), "node")
            ours = answer(prom, concrete(q, "console", me), "console")
            results[q] = {"node_exporter": bool(ne), "console": bool(ours), "differs": judge(q, ne, ours),
                          "near_zero": near_zero_one_sided(q, ne, ours)}
        pending = [q for q in pending if results[q]["differs"]]
    failures = [f"{' '.join(q.split())[:160]}\n    {results[q]['differs']}" for q in pending
                if not any(name in q for name in NOT_OURS)]
    report = {"queries": len(queries), "answered_by_node_exporter": sum(r["node_exporter"] for r in results.values()),
              "answered_by_console": sum(r["console"] for r in results.values()), "results": results}
    (ARTIFACTS / "node-compat.json").write_text(json.dumps(report, indent=1))
    print(f"node-mixin: {report['queries']} queries; node_exporter answers {report['answered_by_node_exporter']}, "
          f"the console {report['answered_by_console']}")
    assert not failures, f"{len(failures)} of {len(queries)} mixin queries differ:\n" + "\n".join(failures)
    # The console answers every query node_exporter answers, but those NOT_OURS names and those
    # where a near-zero rate was above zero for node_exporter's instant alone.
    excused = sum(r["node_exporter"] and not r["console"] and (r["near_zero"] or any(n in q for n in NOT_OURS))
                  for q, r in results.items())
    assert report["answered_by_console"] >= report["answered_by_node_exporter"] - excused, \
        [q for q, r in results.items() if r["node_exporter"] and not r["console"]]


def test_only_a_near_zero_rate_filtered_on_not_zero_may_answer_for_one_side():
    q = 'rate(node_disk_io_time_seconds_total{job="node"}[20s]) != 0'
    tiny, big = {(("device", "vda"),): RATE_FLOOR / 2}, {(("device", "vda"),): RATE_FLOOR * 3}
    assert near_zero_one_sided(q, tiny, {}) and near_zero_one_sided(q, {}, tiny)
    assert judge(q, tiny, {}) is None
    assert not near_zero_one_sided(q, big, {}) and judge(q, big, {}) == "answers for node_exporter only"
    gauge = 'node_filesystem_avail_bytes{job="node"} != 0'
    assert not near_zero_one_sided(gauge, tiny, {}) and judge(gauge, tiny, {})
    assert not near_zero_one_sided(q.removesuffix(" != 0"), tiny, {})  # no "not zero" filter
    assert not near_zero_one_sided(q, tiny, tiny)  # both answer: judged by value


def test_the_mixin_extraction_is_the_mixins():
    """The queries are the committed files' own, interpolated: spot checks against the sources."""
    queries, rules = mixin_queries()
    assert {r["record"] for r in rules} >= {"instance:node_num_cpu:sum", "instance:node_memory_utilisation:ratio"}
    assert any(q.startswith("rate(node_disk_read_bytes_total{job=\"node\", instance=\"$instance\"") for q in queries)
    assert any("node_filefd_allocated{job=\"node\"} * 100 / node_filefd_maximum" in q for q in queries)
    assert not any("%(" in q or "{{" in q for q in queries)
