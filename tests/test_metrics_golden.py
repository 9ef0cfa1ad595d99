"""/metrics from a literal snapshot, compared with the committed tests/golden/metrics.txt.

node_exporter's end-to-end idea: every area's model is built here by hand with fixed numbers and
a fixed ``taken_at``, judged with the default thresholds, and exported with a literal host reading
(tests/metrics_host.py: the /proc and /sys text behind node_exporter's families); the text must be the
golden file byte for byte. A renamed metric, a changed label, a lost sample or a new family shows
up as a diff in review.

After an intended change, rewrite the file and review its diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_metrics_golden.py
    git diff tests/golden/metrics.txt
"""
from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from monitor.cgroups import Costs
from monitor.collectors.cpu import Cpu
from monitor.collectors.disks import BlockDevice, Disks, Filesystem
from monitor.collectors.logs import Logs, SourceErrors
from monitor.collectors.memory import Memory
from monitor.collectors.network import Interface, Network
from monitor.collectors.pressure import OomKill, Pressure, Resource, Stall
from monitor.collectors.processes import Processes
from monitor.collectors.sensors import Battery, Fan, Sensors, Temperature
from monitor.collectors.services import Services, Unit
from monitor.collectors.system import System
from monitor.health import Judge
from monitor.sampler import Snapshot
from monitor.thresholds import Thresholds
from tests.metrics_host import HOST
from views.metrics_families import EXPORTERS, SnapshotCollector

GOLDEN = Path(__file__).parent / "golden" / "metrics.txt"
TAKEN_AT = 1764150000.0  # 2025-11-26 09:40:00 UTC
GIB = 2**30


def areas() -> dict:
    system = System(hostname="web1", os_name="Debian GNU/Linux", os_version="12 (bookworm)",
                    os_id="debian", os_pretty_name="Debian GNU/Linux 12 (bookworm)",
                    kernel="6.1.0-27-amd64", arch="x86_64", boot_time=1764000000.0, uptime=150000.0,
                    cpu_model="AMD EPYC 7B13", cpu_logical=2, cpu_physical=1)
    core = {"user": 1000.5, "nice": 2.0, "system": 300.25, "idle": 50000.0, "iowait": 12.5,
            "irq": 0.0, "softirq": 4.0, "steal": 1.5, "guest": 0.0, "guest_nice": 0.0}
    cpu = Cpu(percent=23.5, per_core=[30.0, 17.0], user=15.0, nice=0.0, system=6.0, idle=76.5,
              iowait=1.5, irq=0.0, softirq=0.5, steal=0.5, load1=0.5, load5=0.25, load15=0.125,
              load_per_core=0.25, count=2, ctx_switches_per_s=812.0, interrupts_per_s=455.0,
              times={k: 2 * v for k, v in core.items()}, ctx_switches=123456789, interrupts=98765432,
              per_core_times=[core, {**core, "idle": 50100.0}])
    memory = Memory(total=8 * GIB, available=6 * GIB, percent=25.0, used=2 * GIB, free=4 * GIB,
                    buffers=64 * 2**20, cached=GIB, shared=32 * 2**20, swap_total=2 * GIB,
                    swap_used=GIB // 2, swap_free=3 * GIB // 2, swap_percent=25.0,
                    swap_in_per_s=0.0, swap_out_per_s=4096.0)
    root = Filesystem(device="/dev/vda1", mountpoint="/", fstype="ext4", read_only=False,
                      also_mounted_at=[], total=100 * GIB, used=91 * GIB, free=9 * GIB, percent=91.0,
                      inodes_total=6_553_600, inodes_used=655_360, inodes_percent=10.0,
                      fill_rate=1024.0, full_in=9 * GIB / 1024.0, error=None)
    boot = Filesystem(device="/dev/vda15", mountpoint="/boot/efi", fstype="vfat", read_only=True,
                      also_mounted_at=[], total=GIB // 8, used=GIB // 64, free=7 * GIB // 64,
                      percent=12.5, inodes_total=None, inodes_used=None, inodes_percent=None,
                      fill_rate=None, full_in=None, error=None)
    disks = Disks(filesystems=[root, boot],
                  devices=[BlockDevice(name="vda", read_bytes_per_s=4096.0, write_bytes_per_s=65536.0,
                                       read_iops=1.0, write_iops=16.0, busy_percent=2.5)],
                  read_bytes_per_s=4096.0, write_bytes_per_s=65536.0)
    eth0 = Interface(name="eth0", isup=True, speed=1000, duplex="full", mtu=1500, addresses=[],
                     bytes_recv_per_s=12500.0, bytes_sent_per_s=2500.0, packets_recv_per_s=10.0,
                     packets_sent_per_s=5.0, errin_per_s=0.0, errout_per_s=0.0, dropin_per_s=0.0,
                     dropout_per_s=0.0)
    network = Network(interfaces=[eth0], hidden=["lo"], bytes_recv_per_s=12500.0,
                      bytes_sent_per_s=2500.0, tcp={"ESTABLISHED": 3, "LISTEN": 2, "TIME_WAIT": 1},
                      tcp_total=6)
    sensors = Sensors(present=True,
                      temperatures=[Temperature(chip="k10temp", label="Tctl", current=48.5, high=None,
                                                critical=None),
                                    Temperature(chip="nvme", label="Composite", current=38.9, high=84.8,
                                                critical=84.8)],
                      fans=[Fan(chip="nct6775", label="fan1", current=1200)],
                      battery=Battery(percent=87.0, secsleft=None, power_plugged=True), hottest=48.5)
    pressure = Pressure(present=True, resources=[
        Resource(name="cpu", some=Stall(avg10=1.5, avg60=0.8, avg300=0.3, total=1693510805, per_s=15000.0),
                 full=Stall(avg10=0.0, avg60=0.0, avg300=0.0, total=0, per_s=0.0)),
        Resource(name="memory", some=Stall(avg10=12.0, avg60=4.0, avg300=1.0, total=47643299, per_s=120000.0),
                 full=Stall(avg10=8.5, avg60=2.5, avg300=0.5, total=30119195, per_s=85000.0)),
        Resource(name="io", some=Stall(avg10=3.0, avg60=1.0, avg300=0.2, total=2000000, per_s=30000.0),
                 full=Stall(avg10=1.0, avg60=0.5, avg300=0.1, total=1500000, per_s=10000.0))],
        oom_kills_total=2, oom_kills_recent=1,
        oom_recent=[OomKill(at=TAKEN_AT - 60, pid=1234, name="python3")])
    processes = Processes(total=83, threads=212, counts={"sleeping": 79, "running": 2, "zombie": 2},
                          top_cpu=[], top_memory=[], rows=[])
    logs = Logs(errors_per_minute=3.0, window=60.0, recent=[],
                sources=[SourceErrors(name="syslog", kind="file", path="/var/log/syslog", available=True,
                                      reason=None, errors=3, total=40),
                         SourceErrors(name="journal", kind="journal", path=None, available=False,
                                      reason="journalctl is not installed", errors=0, total=0)])
    nginx = Unit(name="nginx.service", type="service", description="nginx", load="loaded", active="active",
                 sub="running", since=TAKEN_AT - 3600, main_pid=812, restarts=1, restarts_recent=0,
                 result="success", cgroup="/system.slice/nginx.service",
                 costs=Costs(cpu_percent=2.5, memory=48 * 2**20, memory_max=None, io_read_per_s=0.0,
                             io_write_per_s=4096.0, tasks=5, pressure_cpu=0.0, pressure_memory=0.0,
                             pressure_io=0.5))
    backup = Unit(name="backup.service", type="service", description="backup", load="loaded", active="failed",
                  sub="failed", since=TAKEN_AT - 60, main_pid=None, restarts=0, restarts_recent=0,
                  result="exit-code", cgroup=None)
    services = Services(present=True, cgroup="v2", total=2, failed=1, counts={"active": 1, "failed": 1},
                        units=[backup, nginx])
    return {"system": system, "cpu": cpu, "memory": memory, "disks": disks, "network": network,
            "sensors": sensors, "pressure": pressure, "services": services, "processes": processes, "logs": logs}


def literal_snapshot() -> Snapshot:
    snap = Snapshot(seq=812, taken_at=TAKEN_AT, areas=areas(),
                    unavailable={"pressure": "OSError: /proc/pressure/cpu: no such file"},
                    durations={"cpu": 0.002, "disks": 0.25, "processes": 0.125},
                    stale={"disks": 1.5})
    return replace(snap, verdicts=tuple(Judge(Thresholds())(snap)))  # as the sampler does


def exposition() -> str:
    store = SimpleNamespace(latest=literal_snapshot(), failures={"pressure": 3})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(store, read=lambda: HOST))  # type: ignore[arg-type]
    return generate_latest(registry).decode()


def test_metrics_are_the_golden_file():
    text = exposition()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), (
        "/metrics changed; if intended: UPDATE_GOLDEN=1 pytest tests/test_metrics_golden.py, "
        "then review git diff tests/golden/metrics.txt")


def test_the_literal_snapshot_covers_every_exporter():
    """Each area's exporter has at least one family in the golden text (none silently empty)."""
    names = {f.name for f in text_string_to_metric_families(GOLDEN.read_text())}
    for area, export in EXPORTERS.items():
        mine = {m.name for m in export(areas()[area]) if m is not None}
        assert mine and mine <= names, area
    assert "server_monitor_disks_used_percent" in names and "server_monitor_filesystem_used_percent" not in names


def test_each_area_exports_node_exporter_names_or_its_own_word():
    """One word per area: an area's own families are server_monitor_<area>_*, the rest node_*."""
    for area, export in EXPORTERS.items():
        for m in export(areas()[area]):
            if m is not None:
                assert m.name.startswith(("node_", f"server_monitor_{area}_")), (area, m.name)


def _row_pattern(key: str) -> re.Pattern:
    """A row's name as a pattern: `node_memory_<Field>[_bytes]` stands for a family of names."""
    body = re.escape(key).replace(r"\[_bytes\]", "(_bytes)?")
    return re.compile("^" + re.sub(r"<[^>]+>", r"\\w+", body) + "$")


def test_docs_metrics_has_a_row_for_every_family():
    """docs/METRICS.md's table names every family of the golden text, with its type."""
    doc = (Path(__file__).parent.parent / "docs" / "METRICS.md").read_text()
    rows = [(_row_pattern(k), t) for k, t in re.findall(r"^\| `([^`]+)` \| (\w+) \|", doc, re.MULTILINE)]
    assert len(rows) > 100
    for fam in text_string_to_metric_families(GOLDEN.read_text()):
        name = fam.name + ("_total" if fam.type == "counter" else "")
        kind = {"unknown": "untyped"}.get(fam.type, fam.type)
        assert any(p.match(name) and t == kind for p, t in rows), f"{name} ({kind}) has no row in docs/METRICS.md"
