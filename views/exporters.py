"""What /metrics says about each area: ``EXPORTERS[area](model)`` yields its metric families.

node_exporter's names are used where the value means exactly what node_exporter's does (sizes,
load, temperatures, link state, and the CPU's raw counters: node_cpu_seconds_total,
node_context_switches_total, node_intr_total). Where the sampler keeps only rates and percentages,
those are exported as gauges under server_monitor_* names that say "per_second" or "percent": a
``_total`` counter that was really a rate would mislead every ``rate()`` over it.
The console's own names are ``server_monitor_<area>_*`` (``server_monitor_disks_used_percent``,
``server_monitor_memory_swap_used_percent``, ``server_monitor_logs_errors_per_minute``); the
console-wide families (verdicts, collectors, samples) are in views/metrics.py.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

Rows = Iterable[tuple[tuple[str, ...], float | int | None]]


def _fam(kind: type, name: str, doc: str, labels: tuple[str, ...], rows: Rows) -> Metric | None:
    fam = kind(name, doc, labels=list(labels))
    n = 0
    for values, value in rows:
        if value is None:
            continue  # unknown this tick (first reading, unreadable): no sample, not a fake 0
        fam.add_metric(list(values), float(value))
        n += 1
    return fam if n else None


def gauge(name: str, doc: str, labels: tuple[str, ...] = (), rows: Rows = ()) -> Metric | None:
    return _fam(GaugeMetricFamily, name, doc, labels, rows)


def one(name: str, doc: str, value) -> Metric | None:
    return gauge(name, doc, (), [((), value)])


def counter(name: str, doc: str, labels: tuple[str, ...] = (), rows: Rows = ()) -> Metric | None:
    """A real counter (raw since boot); prometheus_client appends ``_total`` to the name."""
    return _fam(CounterMetricFamily, name, doc, labels, rows)


def _cpu(d) -> Iterator[Metric | None]:
    yield counter("node_cpu_seconds", "Seconds the CPUs spent in each mode.", ("cpu", "mode"),
                  [((str(i), mode), secs) for i, core in enumerate(d.per_core_times)
                   for mode, secs in core.items() if mode not in ("guest", "guest_nice")])
    yield counter("node_context_switches", "Total number of context switches.", (), [((), d.ctx_switches)])
    yield counter("node_intr", "Total number of interrupts serviced.", (), [((), d.interrupts)])
    yield one("server_monitor_cpu_busy_percent", "Busy share of all cores over the last tick.", d.percent)
    modes = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    yield gauge("server_monitor_cpu_mode_percent", "Share of CPU time per mode over the last tick.",
                ("mode",), [((m,), getattr(d, m, None)) for m in modes])
    yield gauge("server_monitor_cpu_core_busy_percent", "Busy share per logical core.", ("cpu",),
                [((str(i),), p) for i, p in enumerate(d.per_core)])
    yield one("node_load1", "1m load average.", d.load1)
    yield one("node_load5", "5m load average.", d.load5)
    yield one("node_load15", "15m load average.", d.load15)
    yield one("server_monitor_cpu_load_per_core", "1m load average per logical core.", d.load_per_core)
    yield one("server_monitor_cpu_logical_cores", "Logical cores.", d.count)
    yield one("server_monitor_cpu_context_switches_per_second", "Context switches per second.",
              d.ctx_switches_per_s)
    yield one("server_monitor_cpu_interrupts_per_second", "Interrupts per second.", d.interrupts_per_s)


def _memory(d) -> Iterator[Metric | None]:
    for field, node in (("total", "MemTotal"), ("available", "MemAvailable"), ("free", "MemFree"),
                        ("buffers", "Buffers"), ("shared", "Shmem"),
                        ("swap_total", "SwapTotal"), ("swap_free", "SwapFree")):
        yield one(f"node_memory_{node}_bytes", f"Memory information field {node}_bytes.",
                  getattr(d, field))
    # psutil's cached adds SReclaimable to /proc/meminfo's Cached: not node_memory_Cached_bytes.
    yield one("server_monitor_memory_cached_bytes",
              "Page cache and reclaimable slab (psutil's cached: Cached + SReclaimable).", d.cached)
    yield one("server_monitor_memory_used_percent", "(total - available) / total, percent.", d.percent)
    yield one("server_monitor_memory_swap_used_percent", "Swap used, percent.", d.swap_percent)
    yield one("server_monitor_memory_swap_in_bytes_per_second", "Bytes swapped in per second.", d.swap_in_per_s)
    yield one("server_monitor_memory_swap_out_bytes_per_second", "Bytes swapped out per second.", d.swap_out_per_s)


def _system(d) -> Iterator[Metric | None]:
    yield one("node_boot_time_seconds", "Node boot time, in unixtime.", d.boot_time)
    yield gauge("node_uname_info", "Labeled system information as provided by the uname system call.",
                ("nodename", "release", "machine"), [((d.hostname, d.kernel, d.arch), 1)])
    yield gauge("node_os_info", "A metric with a constant '1' value labeled by the os-release fields.",
                ("id", "name", "pretty_name", "version"),
                [((d.os_id or "", d.os_name or "", d.os_pretty_name or "", d.os_version or ""), 1)])


def _disks(d) -> Iterator[Metric | None]:
    fs = [((f.device, f.fstype, f.mountpoint), f) for f in d.filesystems]
    lab = ("device", "fstype", "mountpoint")
    yield gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", lab,
                [(k, f.total) for k, f in fs])
    yield gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.",
                lab, [(k, f.free) for k, f in fs])
    yield gauge("node_filesystem_files", "Filesystem total file nodes.", lab,
                [(k, f.inodes_total) for k, f in fs])
    yield gauge("node_filesystem_files_free", "Filesystem total free file nodes.", lab,
                [(k, None if f.inodes_total is None or f.inodes_used is None
                  else f.inodes_total - f.inodes_used) for k, f in fs])
    yield gauge("node_filesystem_readonly", "Filesystem read-only status.", lab,
                [(k, int(f.read_only)) for k, f in fs])
    yield gauge("server_monitor_disks_used_percent", "used / (used + free), as df shows it.", lab,
                [(k, f.percent) for k, f in fs])
    yield gauge("server_monitor_disks_inodes_used_percent", "Inodes used, percent.", lab,
                [(k, f.inodes_percent) for k, f in fs])
    yield gauge("server_monitor_disks_fill_bytes_per_second",
                "Recent growth of used space, bytes per second.", lab, [(k, f.fill_rate) for k, f in fs])
    yield gauge("server_monitor_disks_full_in_seconds",
                "Seconds until full at the recent fill rate; absent when not filling.", lab,
                [(k, f.full_in) for k, f in fs])
    dev = [((b.name,), b) for b in d.devices]
    for field, name, doc in (
            ("read_bytes_per_s", "read_bytes_per_second", "Bytes read per second."),
            ("write_bytes_per_s", "written_bytes_per_second", "Bytes written per second."),
            ("read_iops", "reads_per_second", "Reads completed per second."),
            ("write_iops", "writes_per_second", "Writes completed per second."),
            ("busy_percent", "busy_percent", "Share of time the device had I/O in flight.")):
        yield gauge(f"server_monitor_disks_device_{name}", doc, ("device",),
                    [(k, getattr(b, field, None)) for k, b in dev])


def _network(d) -> Iterator[Metric | None]:
    nic = [((i.name,), i) for i in d.interfaces]
    yield gauge("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.", ("device",),
                [(k, int(i.isup)) for k, i in nic])
    yield gauge("node_network_mtu_bytes", "MTU of the interface.", ("device",), [(k, i.mtu) for k, i in nic])
    yield gauge("node_network_speed_bytes", "Link speed in bytes per second.", ("device",),
                [(k, i.speed * 125_000 if i.speed else None) for k, i in nic])
    for field, name in (("bytes_recv_per_s", "receive_bytes"), ("bytes_sent_per_s", "transmit_bytes"),
                        ("packets_recv_per_s", "receive_packets"), ("packets_sent_per_s", "transmit_packets"),
                        ("errin_per_s", "receive_errors"), ("errout_per_s", "transmit_errors"),
                        ("dropin_per_s", "receive_drops"), ("dropout_per_s", "transmit_drops")):
        yield gauge(f"server_monitor_network_{name}_per_second", f"{name.replace('_', ' ')} per second.",
                    ("device",), [(k, getattr(i, field, None)) for k, i in nic])
    yield gauge("server_monitor_network_tcp_connections", "TCP connections by state (IPv4 and IPv6).", ("state",),
                [((s,), n) for s, n in d.tcp.items()])


def _sensors(d) -> Iterator[Metric | None]:
    temps = [((t.chip, t.label), t) for t in d.temperatures]
    yield gauge("node_hwmon_temp_celsius", "Hardware monitor for temperature (input).", ("chip", "sensor"),
                [(k, t.current) for k, t in temps])
    yield gauge("node_hwmon_temp_max_celsius", "Hardware monitor for temperature (max).", ("chip", "sensor"),
                [(k, t.high) for k, t in temps])
    yield gauge("node_hwmon_temp_crit_celsius", "Hardware monitor for temperature (crit).", ("chip", "sensor"),
                [(k, t.critical) for k, t in temps])
    yield gauge("node_hwmon_fan_rpm", "Hardware monitor for fan revolutions per minute (input).",
                ("chip", "sensor"), [((f.chip, f.label), f.current) for f in d.fans])
    if d.battery is not None:
        yield one("server_monitor_sensors_battery_percent", "Battery charge, percent.", d.battery.percent)


def _pressure(d) -> Iterator[Metric | None]:
    # node_exporter's pressure collector (collector/pressure_linux.go): totals in seconds.
    by = {r.name: r for r in d.resources}

    def total(res: str, kind: str) -> float | None:
        s = getattr(by.get(res), kind, None)
        return None if s is None else s.total / 1e6
    for res, kind, name, doc in (
            ("cpu", "some", "cpu_waiting", "Total time in seconds that processes have waited for CPU time"),
            ("cpu", "full", "cpu_stalled", "Total time in seconds no process could make progress due to CPU congestion"),
            ("memory", "some", "memory_waiting", "Total time in seconds that processes have waited for memory"),
            ("memory", "full", "memory_stalled", "Total time in seconds no process could make progress due to memory congestion"),
            ("io", "some", "io_waiting", "Total time in seconds that processes have waited due to IO congestion"),
            ("io", "full", "io_stalled", "Total time in seconds no process could make progress due to IO congestion")):
        yield counter(f"node_pressure_{name}_seconds", doc, (), [((), total(res, kind))])
    yield gauge("server_monitor_pressure_avg10_percent",
                "PSI share of the last 10 s tasks stalled on the resource (some: at least one, full: all).",
                ("resource", "kind"), [((r.name, kind), getattr(r, kind).avg10) for r in d.resources
                                       for kind in ("some", "full") if getattr(r, kind) is not None])
    if d.oom_kills_total is not None:
        # node_exporter's vmstat collector exports it untyped, without _total.
        yield one("node_vmstat_oom_kill", "/proc/vmstat information field oom_kill.", d.oom_kills_total)


def _processes(d) -> Iterator[Metric | None]:
    # psutil's state words (sleeping, disk-sleep), not node_exporter's letters (S, D): our own name.
    yield gauge("server_monitor_processes_state", "Number of processes in each psutil status.", ("state",),
                [((s,), n) for s, n in d.counts.items()])
    yield one("server_monitor_processes_pids", "Processes on the host.", d.total)
    yield one("server_monitor_processes_threads", "Threads over all readable processes.", d.threads)


def _logs(d) -> Iterator[Metric | None]:
    yield one("server_monitor_logs_errors_per_minute",
              "Error-level (err or worse) log lines read in the last minute; absent when no source is readable.",
              d.errors_per_minute)
    yield gauge("server_monitor_logs_source_errors", "Error-level log lines in the last minute, per source.",
                ("source",), [((s.name,), s.errors) for s in d.sources if s.available])
    yield gauge("server_monitor_logs_source_readable", "1 when the log source can be read.", ("source",),
                [((s.name,), int(s.available)) for s in d.sources])


# Each area's metric families from its model (``snap.get(area)``), keyed by the area word
# (monitor/areas.py; tests/test_layout.py checks every area has one or says why not).
Exporter = Callable[[Any], Iterable[Metric | None]]
EXPORTERS: dict[str, Exporter] = {
    "system": _system, "cpu": _cpu, "memory": _memory, "disks": _disks, "network": _network,
    "sensors": _sensors, "pressure": _pressure, "processes": _processes, "logs": _logs,
}
