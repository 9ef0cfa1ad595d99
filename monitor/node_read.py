"""The raw kernel files behind /metrics' node_exporter families, read once per exported snapshot.

    >>> raw = read_host()
    >>> raw["stat"].startswith("cpu "), "lo" in raw["nics"]
    (True, True)

Why here and not in the sampler: these are node_exporter's counters (diskstats, net/dev, vmstat,
netstat, sockstat, meminfo, ...) that no card shows. Reading them every tick would cost every
console, scraped or not; read at scrape time they cost one read per snapshot however many
Prometheus servers scrape (views/metrics.py memoises ``read_host()`` on the snapshot), and nothing
when nobody scrapes. They are plain /proc and /sys reads that never block on a device (statvfs,
which can hang on NFS, stays in the disks collector with its deadline).

Bounded: each file is read up to ``MAX_FILE`` bytes, at most ``MAX_NICS`` interfaces under
/sys/class/net (each a handful of one-line files). A file that does
not exist (no PSI on this kernel, no IPv6) is None: its families are then absent, not zero.
Everything here is still raw bytes-as-text; views/exporters_node.py parses it and cleans every
host string (interface and device names are chosen by whoever creates them).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

MAX_FILE = 1 << 20  # /proc/stat's intr line and /proc/net/dev grow with IRQs and interfaces
MAX_NICS = 256

PROC_FILES = {
    "stat": "proc/stat", "meminfo": "proc/meminfo", "loadavg": "proc/loadavg",
    "vmstat": "proc/vmstat", "diskstats": "proc/diskstats", "netdev": "proc/net/dev",
    "netstat": "proc/net/netstat", "snmp": "proc/net/snmp", "snmp6": "proc/net/snmp6",
    "sockstat": "proc/net/sockstat", "sockstat6": "proc/net/sockstat6",
    "pressure_cpu": "proc/pressure/cpu", "pressure_memory": "proc/pressure/memory",
    "pressure_io": "proc/pressure/io", "pressure_irq": "proc/pressure/irq",
    "entropy_avail": "proc/sys/kernel/random/entropy_avail",
    "entropy_poolsize": "proc/sys/kernel/random/poolsize",
    "file_nr": "proc/sys/fs/file-nr", "domainname": "proc/sys/kernel/domainname",
    "clocksource_available": "sys/devices/system/clocksource/clocksource0/available_clocksource",
    "clocksource_current": "sys/devices/system/clocksource/clocksource0/current_clocksource",
}
# /sys/class/net/<iface>/<file>: node_exporter's netclass collector reads these.
NIC_FILES = ("address", "broadcast", "duplex", "operstate", "ifalias", "addr_assign_type",
             "carrier", "carrier_changes", "carrier_up_count", "carrier_down_count", "dev_id",
             "dormant", "flags", "ifindex", "iflink", "link_mode", "mtu", "name_assign_type",
             "netdev_group", "speed", "tx_queue_len", "type")


def _text(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read(MAX_FILE).decode("utf-8", "surrogateescape")
    except OSError:  # absent, or EINVAL (speed of a link that is down): no value
        return None


def _nics(root: Path) -> dict[str, dict[str, str | None]]:
    base = root / "sys/class/net"
    try:
        names = sorted(os.listdir(base))[:MAX_NICS]
    except OSError:
        return {}
    return {n: {f: _text(base / n / f) for f in NIC_FILES} for n in names}


def _os_release(root: Path) -> str | None:
    for p in ("etc/os-release", "usr/lib/os-release"):  # os-release(5)'s order, as node_exporter
        text = _text(root / p)
        if text is not None:
            return text
    return None


def read_host(root: str = "/") -> dict:
    """Every file above as text (None where unreadable), the interfaces, uname and the clock."""
    r = Path(root)
    raw: dict = {key: _text(r / rel) for key, rel in PROC_FILES.items()}
    u = os.uname()
    raw.update(nics=_nics(r), os_release=_os_release(r), time=time.time(),
               uname={"sysname": u.sysname, "nodename": u.nodename, "release": u.release,
                      "version": u.version, "machine": u.machine},
               clk_tck=os.sysconf("SC_CLK_TCK"), page_size=os.sysconf("SC_PAGE_SIZE"),
               tz=(time.strftime("%Z"), -time.altzone if time.daylight and time.localtime().tm_isdst
                   else -time.timezone))
    return raw
