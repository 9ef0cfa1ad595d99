"""node_exporter's families on /metrics: parsed from literal kernel text (units, labels, what is
left out), checked against a real node_exporter on this host (same names, types, label names and
help), linted by the real promtool, offered as OpenMetrics, and read once per snapshot."""
from __future__ import annotations

import subprocess

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families

from monitor import node_read
from tests.conftest import free_port
from tests.metrics_host import HOST
from tests.test_metrics import MEM, families
from tests.test_prometheus import tool, until
from views.exporters_node import host_families

# node_exporter's collectors for issue 13's list (they read /proc and /sys only)
COLLECTORS = ("cpu", "meminfo", "loadavg", "time", "stat", "vmstat", "pressure", "filesystem", "diskstats",
              "netdev", "netclass", "netstat", "sockstat", "uname", "os", "entropy", "filefd")
# node_exporter families the console does not export, and why
ABSENT = {
    "node_network_receive_nohandler": "node_exporter reads it over rtnetlink; /proc/net/dev has no such column",
    "node_scrape_collector_duration_seconds": "node_exporter's own collectors",
    "node_scrape_collector_success": "node_exporter's own collectors",
    "node_exporter_build_info": "node_exporter's build",
}


def literal() -> dict:
    return {f.name: f for f in host_families(HOST)}


def value(fams, name, **labels):
    [s] = [s for s in fams[name].samples if all(s.labels.get(k) == v for k, v in labels.items())]
    return s.value


def test_units_are_node_exporters():
    f = literal()
    assert value(f, "node_cpu_seconds", cpu="1", mode="user") == 10.01  # USER_HZ ticks / 100
    assert value(f, "node_cpu_guest_seconds", cpu="1", mode="nice") == 0.01
    assert value(f, "node_memory_Active_anon_bytes") == 262144 * 1024  # "Active(anon): kB"
    assert value(f, "node_memory_HugePages_Total") == 0 and "node_memory_HugePages_Total_bytes" not in f
    assert value(f, "node_disk_read_bytes", device="vda") == 80000 * 512  # sectors
    assert value(f, "node_disk_io_time_weighted_seconds", device="vda") == 2.1  # milliseconds
    assert value(f, "node_disk_discarded_sectors", device="dm-0") == 4096  # sectors, by its name
    assert value(f, "node_pressure_memory_stalled_seconds") == 30.119195  # microseconds
    assert value(f, "node_sockstat_TCP_mem_bytes") == 10 * 4096  # pages
    assert value(f, "node_network_speed_bytes", device="eth0") == 125_000_000  # Mb/s
    assert value(f, "node_network_flags", device="eth0") == 0x1003
    assert value(f, "node_filefd_maximum") == 2466170 and value(f, "node_forks") == 424242


def test_counters_are_raw_and_typed_as_node_exporter_types_them():
    f = literal()
    assert f["node_network_receive_bytes"].type == "counter"
    assert value(f, "node_network_receive_bytes", device="eth0") == 236503795
    assert f["node_disk_io_now"].type == "gauge" and f["node_load1"].type == "gauge"
    assert f["node_vmstat_pgmajfault"].type == f["node_netstat_Tcp_InSegs"].type == "unknown"  # untyped


def test_what_node_exporter_leaves_out_is_left_out():
    f = literal()
    disks = {s.labels["device"] for s in f["node_disk_reads_completed"].samples}
    assert disks == {"vda", "dm-0"}  # vda1 is a partition: node_exporter's default exclude
    assert "node_vmstat_nr_free_pages" not in f and "node_netstat_TcpExt_PruneCalled" not in f
    assert "node_netstat_Ip_DefaultTTL" not in f and "node_netstat_Ip6_InReceives" not in f
    assert "node_network_speed_bytes" in f and {s.labels["device"] for s in f["node_network_speed_bytes"].samples} == {"eth0"}
    assert "node_pressure_irq_stalled_seconds" not in f  # no /proc/pressure/irq: absent, not 0
    assert "node_pressure_cpu_stalled_seconds" not in f  # node_exporter has no such name


def test_host_strings_in_labels_are_cleaned():
    f = literal()
    devices = {s.labels["device"] for s in f["node_network_receive_bytes"].samples}
    assert "ev\\x1bil" in devices and not any("\x1b" in d for d in devices)
    assert value(f, "node_uname_info", sysname="Linux", domainname="(none)") == 1
    assert value(f, "node_os_version", id="debian") == 12


def test_an_unreadable_file_is_no_family():
    f = {m.name for m in host_families({**HOST, "diskstats": None, "meminfo": None, "snmp6": None})}
    assert not any(n.startswith(("node_disk_", "node_memory_")) for n in f)
    assert "node_netstat_Tcp_InSegs" in f and "node_netstat_Ip6_InOctets" not in f


@pytest.fixture
def node_exporter_text():
    port = free_port()
    proc = subprocess.Popen([tool("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{port}",
                             "--collector.disable-defaults", *(f"--collector.{c}" for c in COLLECTORS)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield until(lambda: httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text,
                    lambda t: "node_cpu_seconds_total" in t, "node_exporter answering", 20)
    finally:
        proc.terminate()
        proc.wait(10)


def shape(text: str) -> dict:
    out = {}
    for f in text_string_to_metric_families(text):
        labels = set().union(*(set(s.labels) for s in f.samples)) if f.samples else set()
        out[f.name] = (f.type, f.documentation, labels)
    return out


def test_every_family_is_node_exporters_own(make_client, tmp_path, node_exporter_text):
    """Against the real node_exporter on this host: each of its families is on /metrics (but
    ``ABSENT``) with its type, help and label names; a label the console adds is one node_exporter
    has since added (node_network_info's adminstate), or an empty one it fills from udev."""
    ne = shape(node_exporter_text)
    ours = shape(make_client(tick=60, thresholds=MEM, data_dir=tmp_path).get("/metrics").text)
    theirs = {n for n in ne if n.startswith("node_")}
    missing = theirs - set(ours) - set(ABSENT)
    assert not missing, sorted(missing)
    for name in sorted(theirs & set(ours)):
        (kind, doc, labels), (our_kind, our_doc, our_labels) = ne[name], ours[name]
        assert (our_kind, our_doc) == (kind, doc), name
        extra = {"node_network_info": {"adminstate"}}.get(name, set())
        udev = {"model", "path", "revision", "serial", "wwn"} if name == "node_disk_info" else set()
        assert labels - udev <= our_labels <= labels | extra, (name, labels, our_labels)


def test_promtool_finds_nothing_but_node_exporters_own_names(make_client, tmp_path, node_exporter_text):
    lint = {}
    for who, text in (("node_exporter", node_exporter_text),
                      ("console", make_client(tick=60, data_dir=tmp_path).get("/metrics").text)):
        run = subprocess.run([tool("promtool"), "check", "metrics"], input=text, capture_output=True,
                             text=True, timeout=60, check=False)  # lint findings exit 1
        lint[who] = {line for line in (run.stdout + run.stderr).splitlines() if line.strip()}
    ours = {x for x in lint["console"] if "camelCase" not in x or not x.startswith("node_")}
    assert ours <= lint["node_exporter"], sorted(ours - lint["node_exporter"])
    assert not any(x.startswith("server_monitor_") for x in lint["console"])


def test_openmetrics_when_asked(make_client, tmp_path):
    c = make_client(tick=60, data_dir=tmp_path)
    r = c.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0; charset=utf-8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/openmetrics-text")
    assert r.text.endswith("# EOF\n")
    fams = {f.name: f for f in openmetrics(r.text)}
    assert fams["node_cpu_seconds"].type == "counter" and fams["server_monitor_state"].type == "gauge"
    assert c.get("/metrics").headers["content-type"].startswith("text/plain; version=0.0.4")
    head = c.head("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("application/openmetrics-text")


def test_one_read_of_the_kernel_files_per_snapshot(make_client, tmp_path, monkeypatch):
    c = make_client(tick=60, data_dir=tmp_path)
    reads = []
    real = node_read._text
    monkeypatch.setattr(node_read, "_text", lambda p: reads.append(str(p)) or real(p))
    for accept in ("text/plain", "application/openmetrics-text", "text/plain", "*/*"):
        assert "node_load1" in c.get("/metrics", headers={"Accept": accept}).text
    assert sum(p.endswith("proc/stat") for p in reads) == 1  # one tick (60 s), four scrapes, two formats
    assert families(c)["node_load1"].samples
