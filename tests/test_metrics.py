"""/metrics: parses with prometheus_client's parser; names, types and labels are right; a scrape
reads the snapshot, never psutil; a failing collector is reported, not fatal."""
from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from monitor.collectors import default_collectors
from monitor.collectors.memory import MemoryCollector
from views.metrics_families import SnapshotCollector

MEM = {"memory_percent": {"warning": 0.01, "critical": 100, "for": 0, "clear": 0}}


def families(client) -> dict:
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def samples(fam, **labels):
    return [s for s in fam.samples if all(s.labels.get(k) == v for k, v in labels.items())]


@pytest.fixture
def fams(make_client, tmp_path):
    return families(make_client(tick=60, thresholds=MEM, data_dir=tmp_path))


@pytest.mark.parametrize("name, kind, labels", [
    ("node_load1", "gauge", set()),
    ("node_memory_MemTotal_bytes", "gauge", set()),
    ("node_memory_MemAvailable_bytes", "gauge", set()),
    ("node_boot_time_seconds", "gauge", set()),
    ("node_uname_info", "gauge", {"domainname", "machine", "nodename", "release", "sysname", "version"}),
    ("node_time_seconds", "gauge", set()),
    ("node_memory_Cached_bytes", "gauge", set()),
    ("node_procs_running", "gauge", set()),
    ("node_forks", "counter", set()),
    ("node_network_receive_bytes", "counter", {"device"}),
    ("node_network_transmit_packets", "counter", {"device"}),
    ("node_network_mtu_bytes", "gauge", {"device"}),
    ("node_disk_io_time_seconds", "counter", {"device"}),
    ("node_filesystem_free_bytes", "gauge", {"device", "fstype", "mountpoint"}),
    ("node_filesystem_device_error", "gauge", {"device", "fstype", "mountpoint"}),
    ("node_filefd_allocated", "gauge", set()),
    ("node_vmstat_pgmajfault", "unknown", set()),
    ("node_netstat_Tcp_InSegs", "unknown", set()),
    ("node_filesystem_avail_bytes", "gauge", {"device", "fstype", "mountpoint"}),
    ("node_filesystem_size_bytes", "gauge", {"device", "fstype", "mountpoint"}),
    ("node_network_up", "gauge", {"device"}),
    ("server_monitor_processes_state", "gauge", {"state"}),
    ("server_monitor_memory_cached_bytes", "gauge", set()),
    ("server_monitor_cpu_busy_percent", "gauge", set()),
    ("server_monitor_cpu_mode_percent", "gauge", {"mode"}),
    ("server_monitor_disks_used_percent", "gauge", {"device", "fstype", "mountpoint"}),
    ("server_monitor_verdict_state", "gauge", {"check", "area", "subject"}),
    ("server_monitor_check_value", "gauge", {"check", "area", "subject"}),
    ("server_monitor_check_threshold", "gauge", {"check", "area", "subject", "level"}),
    ("server_monitor_state", "gauge", set()),
    ("server_monitor_collector_success", "gauge", {"collector"}),
    ("server_monitor_collector_failures", "counter", {"collector"}),  # _total in the text
    ("server_monitor_samples", "counter", set()),
    ("node_cpu_seconds", "counter", {"cpu", "mode"}),
    ("node_context_switches", "counter", set()),
    ("node_intr", "counter", set()),
])
def test_names_types_and_labels(fams, name, kind, labels):
    fam = fams[name]
    assert fam.type == kind
    assert fam.samples, f"{name} has no samples"
    for s in fam.samples:
        assert set(s.labels) == labels
        if kind == "counter":
            assert s.name in (name + "_total", name + "_created")


def meminfo() -> dict[str, int]:
    rows = (line.split() for line in Path("/proc/meminfo").read_text().splitlines())
    return {r[0].rstrip(":"): int(r[1]) for r in rows}


def test_node_exporter_names_only_where_the_meaning_is_node_exporters(fams):
    # node_memory_Cached_bytes is /proc/meminfo's Cached; psutil's cached (Cached + SReclaimable)
    # keeps its own name. psutil's states are words where node_exporter has R/S/D/Z: our own name.
    cached = samples(fams["node_memory_Cached_bytes"])[0].value
    assert cached != samples(fams["server_monitor_memory_cached_bytes"])[0].value or \
        meminfo().get("SReclaimable", 0) == 0
    assert abs(cached - meminfo()["Cached"] * 1024) < 0.2 * meminfo()["MemTotal"] * 1024
    assert "node_processes_state" not in fams
    states = {s.labels["state"] for s in fams["server_monitor_processes_state"].samples}
    assert "sleeping" in states or "running" in states


def test_no_rate_is_dressed_up_as_a_counter(fams):
    """Rates are gauges named per_second; every counter ends in _total in the exposition."""
    for fam in fams.values():
        if "per_second" in fam.name or fam.name.endswith("_percent"):
            assert fam.type == "gauge", fam.name
        if fam.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in fam.samples)


def test_values_agree_with_the_snapshot(make_client, tmp_path):
    c = make_client(tick=60, thresholds=MEM, data_dir=tmp_path)
    snap = c.get("/api/snapshot").json()
    before = float(Path("/proc/loadavg").read_text().split()[0])
    fams = families(c)
    after = float(Path("/proc/loadavg").read_text().split()[0])
    assert samples(fams["node_memory_MemTotal_bytes"])[0].value == snap["memory"]["total"] == \
        psutil.virtual_memory().total
    # node_load1 is /proc/loadavg read at the scrape (the kernel updates it every 5 s)
    assert min(before, after) - 0.3 <= samples(fams["node_load1"])[0].value <= max(before, after) + 0.3
    root = next(f for f in snap["disks"]["filesystems"] if f["mountpoint"] == "/")
    assert samples(fams["node_filesystem_avail_bytes"], mountpoint="/")[0].value == root["free"]
    # the verdicts: memory forced to warning (1), every check present once
    states = {(s.labels["check"], s.labels["subject"]): s.value
              for s in fams["server_monitor_verdict_state"].samples}
    assert states[("memory_percent", "")] == 1
    assert samples(fams["server_monitor_state"])[0].value >= 1
    health = c.get("/api/health").json()
    assert health["checks"] == len(states)
    assert samples(fams["server_monitor_check_threshold"], check="memory_percent", level="warning")[0].value == 0.01
    collectors = {s.labels["collector"]: s.value for s in fams["server_monitor_collector_success"].samples}
    assert collectors == {c.name: 1.0 for c in default_collectors()}


class Broken(MemoryCollector):
    """An area whose reading always fails (fault injection)."""
    name = "broken"

    def collect(self, now):
        raise OSError("sensor bus fell off")


def test_a_failing_collector_is_counted_not_fatal(make_client, tmp_path):
    c = make_client(collectors=[MemoryCollector(), Broken()], tick=60, data_dir=tmp_path)
    fams = families(c)
    assert samples(fams["server_monitor_collector_success"], collector="broken")[0].value == 0
    assert samples(fams["server_monitor_collector_success"], collector="memory")[0].value == 1
    assert samples(fams["server_monitor_collector_failures"], collector="broken")[0].value == 1
    assert samples(fams["node_memory_MemTotal_bytes"])  # the rest is still exported


def test_a_scrape_never_calls_psutil(make_client, tmp_path, monkeypatch):
    c = make_client(tick=60, data_dir=tmp_path)
    c.get("/metrics")

    def forbidden(*a, **k):
        raise AssertionError("psutil called during a scrape")
    for fn in ("cpu_times", "virtual_memory", "swap_memory", "disk_usage", "disk_io_counters",
               "net_io_counters", "net_if_stats", "process_iter", "sensors_temperatures"):
        monkeypatch.setattr(psutil, fn, forbidden)
    # A fresh exposition of the stored snapshot (not the memoised bytes) works without psutil.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(c.app.state.store))
    text = generate_latest(registry).decode()
    assert "node_load1 " in text and "server_monitor_verdict_state{" in text


def test_cpu_seconds_are_the_kernels_counters(fams):
    """node_cpu_seconds_total is per core and mode, as node_exporter exports it, and matches psutil."""
    rows = {(x.labels["cpu"], x.labels["mode"]): x.value for x in fams["node_cpu_seconds"].samples}
    cores = psutil.cpu_times(percpu=True)
    assert {c for c, _ in rows} == {str(i) for i in range(len(cores))}
    assert {"user", "system", "idle", "iowait", "steal"} <= {m for _, m in rows}
    for i, t in enumerate(cores):  # counters only grow: the sample is not ahead of the kernel
        assert 0 <= rows[(str(i), "idle")] <= t.idle + 0.01


def test_two_devices_of_one_driver_are_two_series(make_client, tmp_path, monkeypatch):
    """Two NVMe drives (both "nvme" "Composite" in psutil): Prometheus drops a repeated label set."""
    from collections import namedtuple

    from monitor.collectors import sensors as sensors_mod
    from monitor.collectors.sensors import SensorsCollector
    shwtemp = namedtuple("shwtemp", "label current high critical")
    (tmp_path / "class" / "hwmon" / "hwmon0").mkdir(parents=True)  # a chip: psutil is asked
    monkeypatch.setattr(sensors_mod, "SYS_CLASS", str(tmp_path / "class"))
    monkeypatch.setattr(sensors_mod.psutil, "sensors_temperatures", lambda: {
        "nvme": [shwtemp("Composite", 38.9, 84.8, 84.8), shwtemp("Composite", 41.0, 84.8, 84.8)]})
    fams = families(make_client(collectors=[SensorsCollector()], tick=60, data_dir=tmp_path))
    temps = {(s.labels["chip"], s.labels["sensor"]): s.value for s in fams["node_hwmon_temp_celsius"].samples}
    assert temps == {("nvme", "Composite"): 38.9, ("nvme", "Composite #2"): 41.0}
    for fam in fams.values():  # no series anywhere repeats a label set (verdicts included)
        keys = [(s.name, tuple(sorted(s.labels.items()))) for s in fam.samples]
        assert len(keys) == len(set(keys)), fam.name


def test_the_routes_content_types_are_prometheus_clients(make_client, tmp_path):
    # views/metrics.py names both formats without importing prometheus_client (it is imported at
    # the first scrape); the names must stay the library's, in the OpenAPI document and answers
    from prometheus_client import CONTENT_TYPE_LATEST
    from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS

    import views.metrics as route
    assert (route.TEXT, route.OPENMETRICS) == (CONTENT_TYPE_LATEST, OPENMETRICS)
    c = make_client(data_dir=tmp_path)
    assert c.get("/metrics").headers["content-type"].startswith("text/plain; version=")
    om = c.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert om.headers["content-type"].startswith(OPENMETRICS) and om.text.endswith("# EOF\n")
    doc = c.get("/openapi.json").json()["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert set(doc) == {CONTENT_TYPE_LATEST, OPENMETRICS}
