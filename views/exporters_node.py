"""node_exporter's families from the raw kernel files of ``monitor.node_read.read_host()``.

Pure functions of that reading (unit-tested on literal text in tests/test_metrics_node.py). Names,
types, labels, units and help are node_exporter's (collector/{stat,meminfo,loadavg,vmstat,
pressure,time,entropy,filefd,uname,os_release}_linux.go); counters are the kernel's raw counters,
never rates. The network and disk families are in views/exporters_net.py.

    >>> fams = list(host_families({"loadavg": "0.50 0.25 0.12 2/301 4242\\n"}))
    >>> [(f.name, f.type, f.samples[0].value) for f in fams]
    [('node_load1', 'gauge', 0.5), ('node_load5', 'gauge', 0.25), ('node_load15', 'gauge', 0.12)]
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from prometheus_client.core import Metric

from monitor.collectors.system import parse_os_release

from .exporters import counter, gauge, label, one, untyped
from .exporters_net import net_families

CPU_MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
# node_exporter's default --collector.vmstat.fields
VMSTAT = re.compile(r"^(oom_kill|pgpg|pswp|pg.*fault).*")


def _num(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def _stat(text: str, hz: float) -> Iterator[Metric | None]:
    cpus, guests, top = [], [], {}
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0].startswith("cpu") and f[0] != "cpu" and len(f) >= 9:
            core = f[0][3:]
            ticks = [_num(x) for x in f[1:11]]
            cpus += [((core, m), None if t is None else t / hz) for m, t in zip(CPU_MODES, ticks)]
            guests += [((core, m), None if t is None else t / hz)
                       for m, t in zip(("user", "nice"), ticks[8:10])]
        elif len(f) >= 2:
            top[f[0]] = _num(f[1])
    yield counter("node_cpu_seconds", "Seconds the CPUs spent in each mode.", ("cpu", "mode"), cpus)
    yield counter("node_cpu_guest_seconds", "Seconds the CPUs spent in guests (VMs) for each mode.",
                  ("cpu", "mode"), guests)
    yield counter("node_context_switches", "Total number of context switches.", (), [((), top.get("ctxt"))])
    yield counter("node_forks", "Total number of forks.", (), [((), top.get("processes"))])
    yield counter("node_intr", "Total number of interrupts serviced.", (), [((), top.get("intr"))])
    yield one("node_procs_running", "Number of processes in runnable state.", top.get("procs_running"))
    yield one("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.",
              top.get("procs_blocked"))


def _meminfo(text: str) -> Iterator[Metric | None]:
    """Every line of /proc/meminfo: ``Active(anon): 12 kB`` is node_memory_Active_anon_bytes."""
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if not parts or not re.fullmatch(r"[A-Za-z0-9_()]+", key):
            continue
        key = key.replace("(", "_").replace(")", "")
        value = _num(parts[0])
        if value is not None and len(parts) > 1 and parts[1] == "kB":
            key, value = key + "_bytes", value * 1024
        yield one(f"node_memory_{key}", f"Memory information field {key}.", value)


def _loadavg(text: str) -> Iterator[Metric | None]:
    f = text.split()
    for i, span in enumerate(("1", "5", "15")):
        yield one(f"node_load{span}", f"{span}m load average.", _num(f[i]) if len(f) > i else None)


def _vmstat(text: str) -> Iterator[Metric | None]:
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and VMSTAT.match(f[0]) and re.fullmatch(r"\w+", f[0]):
            yield untyped(f"node_vmstat_{f[0]}", f"/proc/vmstat information field {f[0]}.", _num(f[1]))


PRESSURE = (
    ("cpu", "some", "cpu_waiting", "Total time in seconds that processes have waited for CPU time"),
    ("io", "some", "io_waiting", "Total time in seconds that processes have waited due to IO congestion"),
    ("io", "full", "io_stalled", "Total time in seconds no process could make progress due to IO congestion"),
    ("memory", "some", "memory_waiting", "Total time in seconds that processes have waited for memory"),
    ("memory", "full", "memory_stalled",
     "Total time in seconds no process could make progress due to memory congestion"),
    ("irq", "full", "irq_stalled", "Total time in seconds no process could make progress due to IRQ congestion"),
)


def _pressure(raw: dict) -> Iterator[Metric | None]:
    for res, kind, name, doc in PRESSURE:
        text = raw.get(f"pressure_{res}") or ""
        m = re.search(rf"^{kind} .*\btotal=(\d+)", text, re.MULTILINE)
        yield counter(f"node_pressure_{name}_seconds", doc, (), [((), int(m[1]) / 1e6 if m else None)])


def _time(raw: dict) -> Iterator[Metric | None]:
    yield one("node_time_seconds", "System time in seconds since epoch (1970).", raw.get("time"))
    if raw.get("tz"):
        zone, offset = raw["tz"]
        yield gauge("node_time_zone_offset_seconds", "System time zone offset in seconds.",
                    ("time_zone",), [((label(zone),), offset)])
    for key, name, doc in (
            ("clocksource_available", "available",
             "Available clocksources read from '/sys/devices/system/clocksource'."),
            ("clocksource_current", "current", "Current clocksource read from '/sys/devices/system/clocksource'.")):
        yield gauge(f"node_time_clocksource_{name}_info", doc, ("clocksource", "device"),
                    [((label(c), "0"), 1) for c in dict.fromkeys((raw.get(key) or "").split()[:64])])


def _kernel(raw: dict) -> Iterator[Metric | None]:
    yield one("node_entropy_available_bits", "Bits of available entropy.",
              _num(raw.get("entropy_avail") or ""))
    yield one("node_entropy_pool_size_bits", "Bits of entropy pool.", _num(raw.get("entropy_poolsize") or ""))
    fd = (raw.get("file_nr") or "").split()
    if len(fd) == 3:
        yield one("node_filefd_allocated", "File descriptor statistics: allocated.", _num(fd[0]))
        yield one("node_filefd_maximum", "File descriptor statistics: maximum.", _num(fd[2]))


UNAME = ("domainname", "machine", "nodename", "release", "sysname", "version")
OS_LABELS = ("build_id", "id", "id_like", "image_id", "image_version", "name", "pretty_name", "variant",
             "variant_id", "version", "version_codename", "version_id")


def _identity(raw: dict) -> Iterator[Metric | None]:
    if raw.get("uname"):
        u = {**raw["uname"], "domainname": (raw.get("domainname") or "").strip()}
        yield gauge("node_uname_info", "Labeled system information as provided by the uname system call.",
                    UNAME, [(tuple(label(u.get(k)) for k in UNAME), 1)])
    if raw.get("os_release") is not None:
        osr = {k.lower(): v for k, v in parse_os_release(raw["os_release"]).items()}
        yield gauge("node_os_info", "A metric with a constant '1' value labeled by " + ", ".join(OS_LABELS) + ".",
                    OS_LABELS, [(tuple(label(osr.get(k)) for k in OS_LABELS), 1)])
        m = re.match(r"\d+(\.\d+)?", osr.get("version_id", ""))
        yield gauge("node_os_version", "Metric containing the major.minor part of the OS version.",
                    ("id", "id_like", "name"),
                    [(tuple(label(osr.get(k)) for k in ("id", "id_like", "name")), float(m[0]) if m else None)])


def host_families(raw: dict) -> Iterator[Metric]:
    """Every node_exporter family of one reading; a file that was unreadable gives no family."""
    parts = []
    if raw.get("stat") is not None:
        parts.append(_stat(raw["stat"], float(raw.get("clk_tck") or 100)))
    for key, parse in (("meminfo", _meminfo), ("loadavg", _loadavg), ("vmstat", _vmstat)):
        if raw.get(key) is not None:
            parts.append(parse(raw[key]))
    parts += [_pressure(raw), _time(raw), _kernel(raw), _identity(raw)]
    parts.append(net_families(raw))  # the network and disk half of the same reading
    for part in parts:
        yield from (m for m in part if m is not None)
