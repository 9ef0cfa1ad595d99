"""What /metrics says about each area: ``EXPORTERS[area](model)`` yields its metric families.

Two sources, one name space. node_exporter's families for what the kernel counts (node_cpu_*,
node_memory_*, node_disk_*, node_network_*, node_vmstat_*, ...) are made from the raw /proc and
/sys files read once per exported snapshot (monitor/node_read.py, views/exporters_node.py,
views/exporters_net.py): raw counters, every interface and device, exactly node_exporter's names,
labels and units. The areas here add what the sampler itself measured: the filesystems (statvfs
with its deadline, so a hung NFS mount never holds a scrape), boot time, temperatures, and the
console's own readings under ``server_monitor_<area>_*`` names that say "per_second" or "percent"
(rates and shares are gauges: a ``_total`` counter that was really a rate would mislead every
``rate()`` over it). The console-wide families (verdicts, collectors, samples) are in
views/metrics.py; docs/METRICS.md lists them all.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, UnknownMetricFamily

from monitor.text import clean

LABEL_MAX = 256  # characters of a host string in a label value

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


def label(s: str | None) -> str:
    """A host string (interface, device, mount point, os-release field) as a label value: cleaned
    (monitor/text.py) and capped. Collectors already clean theirs; the raw /proc reading does not."""
    return clean(s or "", LABEL_MAX)


def gauge(name: str, doc: str, labels: tuple[str, ...] = (), rows: Rows = ()) -> Metric | None:
    return _fam(GaugeMetricFamily, name, doc, labels, rows)


def one(name: str, doc: str, value) -> Metric | None:
    return gauge(name, doc, (), [((), value)])


def untyped(name: str, doc: str, value) -> Metric | None:
    """node_exporter's untyped families (vmstat, netstat): one sample, no labels."""
    return _fam(UnknownMetricFamily, name, doc, (), [((), value)])


def counter(name: str, doc: str, labels: tuple[str, ...] = (), rows: Rows = ()) -> Metric | None:
    """A real counter (raw since boot); prometheus_client appends ``_total`` to the name."""
    return _fam(CounterMetricFamily, name, doc, labels, rows)


def _cpu(d) -> Iterator[Metric | None]:
    # node_cpu_seconds_total, node_load1, ... come from /proc/stat and /proc/loadavg
    # (views/exporters_node.py); these are the console's own readings.
    yield one("server_monitor_cpu_busy_percent", "Busy share of all cores over the last tick.", d.percent)
    modes = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    yield gauge("server_monitor_cpu_mode_percent", "Share of CPU time per mode over the last tick.",
                ("mode",), [((m,), getattr(d, m, None)) for m in modes])
    yield gauge("server_monitor_cpu_core_busy_percent", "Busy share per logical core.", ("cpu",),
                [((str(i),), p) for i, p in enumerate(d.per_core)])
    yield one("server_monitor_cpu_load_per_core", "1m load average per logical core.", d.load_per_core)
    yield one("server_monitor_cpu_logical_cores", "Logical cores.", d.count)
    yield one("server_monitor_cpu_context_switches_per_second", "Context switches per second.",
              d.ctx_switches_per_s)
    yield one("server_monitor_cpu_interrupts_per_second", "Interrupts per second.", d.interrupts_per_s)


def _memory(d) -> Iterator[Metric | None]:
    # node_memory_<Field>_bytes, every line of /proc/meminfo, is views/exporters_node.py's.
    # psutil's cached adds SReclaimable to /proc/meminfo's Cached: not node_memory_Cached_bytes.
    yield one("server_monitor_memory_cached_bytes",
              "Page cache and reclaimable slab (psutil's cached: Cached + SReclaimable).", d.cached)
    yield one("server_monitor_memory_used_percent", "(total - available) / total, percent.", d.percent)
    yield one("server_monitor_memory_swap_used_percent", "Swap used, percent.", d.swap_percent)
    yield one("server_monitor_memory_swap_in_bytes_per_second", "Bytes swapped in per second.", d.swap_in_per_s)
    yield one("server_monitor_memory_swap_out_bytes_per_second", "Bytes swapped out per second.", d.swap_out_per_s)


def _system(d) -> Iterator[Metric | None]:
    # node_uname_info and node_os_info (all their labels) are views/exporters_node.py's.
    yield one("node_boot_time_seconds", "Node boot time, in unixtime.", d.boot_time)


# node_exporter's default --collector.filesystem.{mount-points,fs-types}-exclude: the console
# judges /dev/shm (and tmpfs it is told to), node_exporter leaves them out of node_filesystem_*.
NODE_MOUNT_EXCLUDE = re.compile(r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+"
                                r"|var/lib/containers/storage/.+)($|/)")
NODE_FSTYPE_EXCLUDE = re.compile(r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl"
                                 r"|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs"
                                 r"|securityfs|selinuxfs|squashfs|sysfs|tracefs)$")


def _disks(d) -> Iterator[Metric | None]:
    # node_exporter has a series per mount point, bind mounts included; the console lists each
    # filesystem once with the other places it is mounted.
    fs = [((f.device, f.fstype, mp), f) for f in d.filesystems for mp in (f.mountpoint, *f.also_mounted_at)
          if not NODE_MOUNT_EXCLUDE.match(mp) and not NODE_FSTYPE_EXCLUDE.match(f.fstype)]
    lab = ("device", "fstype", "mountpoint")
    yield gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", lab,
                [(k, f.total) for k, f in fs])
    yield gauge("node_filesystem_free_bytes", "Filesystem free space in bytes.", lab,
                [(k, None if f.total is None or f.used is None else f.total - f.used) for k, f in fs])
    yield gauge("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.",
                lab, [(k, f.free) for k, f in fs])
    yield gauge("node_filesystem_files", "Filesystem total file nodes.", lab,
                [(k, f.inodes_total) for k, f in fs])
    yield gauge("node_filesystem_files_free", "Filesystem total free file nodes.", lab,
                [(k, None if f.inodes_total is None or f.inodes_used is None
                  else f.inodes_total - f.inodes_used) for k, f in fs])
    yield gauge("node_filesystem_readonly", "Filesystem read-only status.", lab,
                [(k, int(f.read_only)) for k, f in fs])
    yield gauge("node_filesystem_device_error",
                "Whether an error occurred while getting statistics for the given device.", lab,
                [(k, int(f.error is not None)) for k, f in fs])
    fs = [((f.device, f.fstype, f.mountpoint), f) for f in d.filesystems]
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
    # node_network_* (every interface's counters and /sys/class/net properties) are
    # views/exporters_net.py's; these are the rates of the shown interfaces.
    nic = [((i.name,), i) for i in d.interfaces]
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
    # node_pressure_*_seconds_total and node_vmstat_oom_kill are views/exporters_node.py's.
    yield gauge("server_monitor_pressure_avg10_percent",
                "PSI share of the last 10 s tasks stalled on the resource (some: at least one, full: all).",
                ("resource", "kind"), [((r.name, kind), getattr(r, kind).avg10) for r in d.resources
                                       for kind in ("some", "full") if getattr(r, kind) is not None])


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
EXPORTERS["services"] = __import__("views.services_metrics", fromlist=["export"]).export  # issue 14
