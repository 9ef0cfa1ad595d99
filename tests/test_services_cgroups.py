"""What a unit costs, from cgroup v2 files written here in the kernel's documented formats
(Documentation/admin-guide/cgroup-v2.rst, accounting/psi.rst). This CI machine is hybrid (its
unified hierarchy has no cpu, memory, io or pids controller), so a live v2 host's memory, io and
pids files are not exercised; tests/test_services.py reads live cpu.stat and *.pressure from the
unified hierarchy."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from monitor import cgroups
from monitor.collectors.services import ServicesCollector, find
from tests.systemd_harness import harness_for_tests


def write_unit(d: Path, usage_usec: int, rbytes: int, wbytes: int, memory: int = 50 << 20,
               peak: int | None = 80 << 20, limit: str = "max", tasks: int = 3,
               cpu_some: float = 1.5) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "cpu.stat").write_text(f"usage_usec {usage_usec}\nuser_usec {usage_usec * 3 // 4}\n"
                                f"system_usec {usage_usec // 4}\nnr_periods 0\nnr_throttled 0\n"
                                "throttled_usec 0\n")
    (d / "memory.current").write_text(f"{memory}\n")
    if peak is not None:
        (d / "memory.peak").write_text(f"{peak}\n")
    (d / "memory.max").write_text(f"{limit}\n")
    (d / "io.stat").write_text(f"8:0 rbytes={rbytes} wbytes={wbytes} rios=10 wios=20 dbytes=0 dios=0\n"
                               "253:0 rbytes=1000 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n")
    (d / "pids.current").write_text(f"{tasks}\n")
    (d / "cpu.pressure").write_text(f"some avg10={cpu_some:.2f} avg60=0.50 avg300=0.10 total=123456\n"
                                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
    (d / "memory.pressure").write_text("some avg10=0.25 avg60=0.00 avg300=0.00 total=10\n"
                                       "full avg10=0.10 avg60=0.00 avg300=0.00 total=5\n")
    (d / "io.pressure").write_text("some avg10=12.00 avg60=3.00 avg300=1.00 total=99\n"
                                   "full avg10=8.00 avg60=2.00 avg300=0.50 total=70\n")


def test_v2_files_become_rates_and_levels(tmp_path):
    d = tmp_path / "system.slice" / "nginx.service"
    write_unit(d, usage_usec=1_000_000, rbytes=4096, wbytes=8192)
    first = cgroups.read_raw(d)
    c0 = cgroups.shape(first, None, 0)
    assert c0.cpu_percent is None and c0.io_read_per_s is None  # no rate from one reading
    assert (c0.memory, c0.memory_peak, c0.memory_max, c0.tasks) == (50 << 20, 80 << 20, None, 3)
    assert (c0.pressure_cpu, c0.pressure_memory, c0.pressure_io) == (1.5, 0.25, 12.0)
    # 2 s later: 1.5 s of CPU used (75 % of one core), 2 MiB read, 1 MiB written
    write_unit(d, usage_usec=2_500_000, rbytes=4096 + (2 << 20), wbytes=8192 + (1 << 20),
               limit=str(512 << 20))
    c1 = cgroups.shape(cgroups.read_raw(d), first, 2.0)
    assert c1.cpu_percent == 75.0
    assert c1.io_read_per_s == (2 << 20) / 2 and c1.io_write_per_s == (1 << 20) / 2
    assert c1.memory_max == 512 << 20


def test_missing_files_are_none_not_zero(tmp_path):
    """memory.peak is kernel 5.19+; a controller not enabled for the unit has no files at all."""
    d = tmp_path / "a.service"
    write_unit(d, usage_usec=10, rbytes=0, wbytes=0, peak=None)
    (d / "io.stat").unlink()
    (d / "pids.current").unlink()
    c = cgroups.shape(cgroups.read_raw(d), None, 0)
    assert c.memory_peak is None and c.tasks is None and c.io_read_per_s is None
    assert cgroups.read_raw(tmp_path / "gone.service") is None


def test_a_counter_reset_is_not_a_negative_rate(tmp_path):
    d = tmp_path / "b.service"
    write_unit(d, usage_usec=5_000_000, rbytes=100, wbytes=100)
    before = cgroups.read_raw(d)
    write_unit(d, usage_usec=1_000_000, rbytes=50, wbytes=50)  # the unit restarted: a new cgroup
    c = cgroups.shape(cgroups.read_raw(d), before, 1.0)
    # counted from zero, like rate(): 50 + the second device's 1000 bytes
    assert c.cpu_percent == 100.0 and c.io_read_per_s == 1050


def test_control_group_paths_stay_under_the_root(tmp_path):
    assert cgroups.unit_dir("/system.slice/x.service", tmp_path) == tmp_path / "system.slice/x.service"
    for bad in ("", "relative/x.service", "/system.slice/../../etc", "/.."):
        assert cgroups.unit_dir(bad, tmp_path) is None


def test_mode_from_mountinfo(tmp_path):
    line = "30 23 0:26 / {mp} rw,nosuid shared:4 - {fs} {fs} rw\n"
    cases = {
        "v2": line.format(mp="/sys/fs/cgroup", fs="cgroup2"),
        "hybrid": line.format(mp="/sys/fs/cgroup", fs="tmpfs") + line.format(mp="/sys/fs/cgroup/unified", fs="cgroup2")
        + line.format(mp="/sys/fs/cgroup/memory", fs="cgroup"),
        "v1": line.format(mp="/sys/fs/cgroup", fs="tmpfs") + line.format(mp="/sys/fs/cgroup/cpu", fs="cgroup"),
        "none": line.format(mp="/proc", fs="proc"),
    }
    for want, text in cases.items():
        f = tmp_path / want
        f.write_text(text)
        assert cgroups.mode(str(f)) == want
    assert cgroups.mode() == "hybrid"  # this CI machine


@pytest.fixture(scope="module")
def systemd():
    h = harness_for_tests()
    yield h
    h.stop()


def test_the_collector_reads_each_units_cgroup_on_a_v2_tree(systemd, tmp_path):
    """Real units from the harness's systemd, their ControlGroup paths mirrored in a v2 tree
    written here: costs reach the model, the card's top lists and /metrics' families."""
    from views.services_metrics import export
    c = ServicesCollector(systemd.address, process_interval=0.5, cgroup_root=tmp_path, cgroup_mode="v2")
    try:
        deadline = time.monotonic() + 15
        data = c.collect(time.time())
        while (find(data, "dbus.service") is None or not find(data, "dbus.service").cgroup) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
            data = c.collect(time.time())
        cg = find(data, "dbus.service").cgroup
        d = tmp_path / cg.lstrip("/")
        write_unit(d, usage_usec=1_000_000, rbytes=0, wbytes=0, memory=7 << 20)
        t0 = time.time() + 10  # past process_interval since any earlier read: both collects read
        c.collect(t0)
        write_unit(d, usage_usec=1_500_000, rbytes=1 << 20, wbytes=0, memory=9 << 20)
        data = c.collect(t0 + 1.0)
        u = find(data, "dbus.service")
        assert u.costs.memory == 9 << 20 and u.costs.cpu_percent == pytest.approx(50.0, rel=0.01)
        assert u.costs.io_read_per_s == pytest.approx(1 << 20, rel=0.01)
        families = {f.name: f for f in export(data) if f is not None}
        mem = families["server_monitor_services_memory_bytes"]
        assert [s.value for s in mem.samples if s.labels["name"] == "dbus.service"] == [9 << 20]
        assert "services.dbus.service.memory" in c.series(data)
    finally:
        c.close()
