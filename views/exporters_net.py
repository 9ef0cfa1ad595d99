"""node_exporter's network and disk families from ``read_host()``'s raw text (pure functions).

collector/{netdev,netclass,netstat,sockstat,diskstats}_linux.go: raw counters from /proc/net/dev
and /proc/diskstats (bytes, packets, sectors as bytes, milliseconds as seconds), every interface
under /sys/class/net, the default netstat fields (untyped, as node_exporter), sockstat gauges.
Interface and device names are cleaned (``label``): anyone who can create an interface or a
device-mapper target chooses them.

    >>> raw = {"netdev": "h1\\nh2\\n  lo: 10 2 0 0 0 0 0 0 10 2 0 0 0 0 0 0\\n"}
    >>> fams = {f.name: f for f in net_families(raw) if f is not None}
    >>> [(s.name, s.labels, s.value) for s in fams["node_network_receive_bytes"].samples]
    [('node_network_receive_bytes_total', {'device': 'lo'}, 10.0)]
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from prometheus_client.core import Metric

from .exporters import counter, gauge, label, untyped

NETDEV = ("receive_bytes", "receive_packets", "receive_errs", "receive_drop", "receive_fifo",
          "receive_frame", "receive_compressed", "receive_multicast", "transmit_bytes",
          "transmit_packets", "transmit_errs", "transmit_drop", "transmit_fifo", "transmit_colls",
          "transmit_carrier", "transmit_compressed")


def _int(s: str | None) -> int | None:
    try:
        return int((s or "").strip())
    except ValueError:
        return None


def _netdev(text: str) -> Iterator[Metric | None]:
    rows = []
    for line in text.splitlines()[2:]:  # two header lines
        name, sep, rest = line.partition(":")
        if sep:
            rows.append((label(name.strip()), rest.split()))
    for i, field in enumerate(NETDEV):
        yield counter(f"node_network_{field}", f"Network device statistic {field}.", ("device",),
                      [((dev,), _int(v[i]) if len(v) > i else None) for dev, v in rows])


# (file, metric, counter?) as collector/netclass_linux.go names them
NIC_PROPS = (("addr_assign_type", "address_assign_type", False), ("carrier", "carrier", False),
             ("carrier_changes", "carrier_changes_total", True),
             ("carrier_up_count", "carrier_up_changes_total", True),
             ("carrier_down_count", "carrier_down_changes_total", True), ("dev_id", "device_id", False),
             ("dormant", "dormant", False), ("flags", "flags", False), ("ifindex", "iface_id", False),
             ("iflink", "iface_link", False), ("link_mode", "iface_link_mode", False),
             ("mtu", "mtu_bytes", False), ("name_assign_type", "name_assign_type", False),
             ("netdev_group", "net_dev_group", False), ("speed", "speed_bytes", False),
             ("tx_queue_len", "transmit_queue_length", False), ("type", "protocol_type", False))
INFO = ("device", "address", "broadcast", "duplex", "operstate", "adminstate", "ifalias")


def _hex(s: str | None) -> int | None:
    try:
        return int((s or "").strip(), 16)  # "0x1003"
    except ValueError:
        return None


def _value(file: str, text: str | None) -> int | None:
    if file in ("dev_id", "flags"):
        return _hex(text)
    n = _int(text)
    if file == "speed":  # Mb/s; an unknown speed (-1) gives -125000, as node_exporter's default
        return None if n is None else n * 1000 * 1000 // 8
    return n


def _netclass(nics: dict) -> Iterator[Metric | None]:
    devs = [(label(name), files) for name, files in nics.items()]

    def s(files, key):
        return label((files.get(key) or "").strip())
    yield gauge("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.", ("device",),
                [((d,), int(s(f, "operstate") == "up")) for d, f in devs])

    def admin(f):
        flags = _hex(f.get("flags"))
        return "unknown" if flags is None else ("up" if flags & 1 else "down")
    yield gauge("node_network_info", "Non-numeric data from /sys/class/net/<iface>, value is always 1.", INFO,
                [((d, s(f, "address"), s(f, "broadcast"), s(f, "duplex"), s(f, "operstate"), admin(f),
                   s(f, "ifalias")), 1) for d, f in devs])
    for file, name, is_counter in NIC_PROPS:
        rows = [((d,), _value(file, f.get(file))) for d, f in devs]
        doc = f"Network device property: {name}"
        yield (counter if is_counter else gauge)(f"node_network_{name}", doc, ("device",), rows)


# node_exporter's default --collector.netstat.fields
NETSTAT = re.compile(r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)"
                     r"|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)"
                     r"|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)"
                     r"|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$")


def _pairs(text: str) -> Iterator[tuple[str, str, str]]:
    """/proc/net/netstat and /proc/net/snmp: a line of names, then a line of values, per protocol."""
    lines = text.splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        proto, _, keys = names.partition(":")
        for key, v in zip(keys.split(), values.partition(":")[2].split()):
            yield proto, key, v


def _snmp6(text: str) -> Iterator[tuple[str, str, str]]:
    """/proc/net/snmp6: ``Ip6InOctets 123`` lines; the protocol ends at its first "6"."""
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and "6" in f[0]:
            proto, _, key = f[0].partition("6")
            yield proto + "6", key, f[1]


def _netstat(raw: dict) -> Iterator[Metric | None]:
    seen = {}
    for key, parse in (("netstat", _pairs), ("snmp", _pairs), ("snmp6", _snmp6)):
        for proto, field, v in parse(raw.get(key) or ""):
            name = f"{proto}_{field}"
            if NETSTAT.match(name) and re.fullmatch(r"\w+", name) and name not in seen:
                seen[name] = untyped(f"node_netstat_{name}", f"Statistic {proto}{field}.", _int(v))
    yield from seen.values()


def _sockstat(text: str, v6: bool, page: int) -> Iterator[Metric | None]:
    for line in text.splitlines():
        proto, _, rest = line.partition(":")
        f = rest.split()
        for key, v in zip(f[::2], f[1::2]):
            if not re.fullmatch(r"\w+", proto + key):
                continue
            if proto == "sockets" and not v6:
                yield gauge("node_sockstat_sockets_used", "Number of IPv4 sockets in use.", (), [((), _int(v))])
                continue
            yield gauge(f"node_sockstat_{proto}_{key}", f"Number of {proto} sockets in state {key}.",
                        (), [((), _int(v))])
            if key == "mem":  # pages
                n = _int(v)
                yield gauge(f"node_sockstat_{proto}_mem_bytes", f"Number of {proto} sockets in state mem_bytes.",
                            (), [((), None if n is None else n * page)])


# collector/diskstats_linux.go: (field index after the name, metric, help, scale, counter?)
DISK = (
    (0, "reads_completed_total", "The total number of reads completed successfully.", 1, True),
    (1, "reads_merged_total", "The total number of reads merged.", 1, True),
    (2, "read_bytes_total", "The total number of bytes read successfully.", 512, True),
    (3, "read_time_seconds_total", "The total number of seconds spent by all reads.", 0.001, True),
    (4, "writes_completed_total", "The total number of writes completed successfully.", 1, True),
    (5, "writes_merged_total", "The number of writes merged.", 1, True),
    (6, "written_bytes_total", "The total number of bytes written successfully.", 512, True),
    (7, "write_time_seconds_total", "This is the total number of seconds spent by all writes.", 0.001, True),
    (8, "io_now", "The number of I/Os currently in progress.", 1, False),
    (9, "io_time_seconds_total", "Total seconds spent doing I/Os.", 0.001, True),
    (10, "io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", 0.001, True),
    (11, "discards_completed_total", "The total number of discards completed successfully.", 1, True),
    (12, "discards_merged_total", "The total number of discards merged.", 1, True),
    (13, "discarded_sectors_total", "The total number of sectors discarded successfully.", 1, True),
    (14, "discard_time_seconds_total", "This is the total number of seconds spent by all discards.", 0.001, True),
    (15, "flush_requests_total", "The total number of flush requests completed successfully", 1, True),
    (16, "flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.",
     0.001, True),
)
# node_exporter's default --collector.diskstats.device-exclude: partitions and pseudo devices
DISK_EXCLUDE = re.compile(r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$")


def _diskstats(text: str) -> Iterator[Metric | None]:
    rows = []
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 14 and not DISK_EXCLUDE.match(f[2]):
            rows.append((label(f[2]), f[0], f[1], f[3:]))
    yield gauge("node_disk_info", "Info of /sys/block/<block_device>.", ("device", "major", "minor"),
                [((d, label(ma), label(mi)), 1) for d, ma, mi, _ in rows])
    for i, name, doc, scale, is_counter in DISK:
        values = [((d,), None if len(v) <= i or _int(v[i]) is None else _int(v[i]) * scale)
                  for d, _, _, v in rows]
        yield (counter if is_counter else gauge)(f"node_disk_{name}", doc, ("device",), values)


def net_families(raw: dict) -> Iterator[Metric | None]:
    if raw.get("netdev") is not None:
        yield from _netdev(raw["netdev"])
    yield from _netclass(raw.get("nics") or {})
    yield from _netstat(raw)
    page = int(raw.get("page_size") or 4096)
    for key, v6 in (("sockstat", False), ("sockstat6", True)):
        if raw.get(key) is not None:
            yield from _sockstat(raw[key], v6, page)
    if raw.get("diskstats") is not None:
        yield from _diskstats(raw["diskstats"])
