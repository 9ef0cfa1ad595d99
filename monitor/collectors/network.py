"""Network: each interface's state, addresses and traffic per second; TCP connections by state.

Sample (a VM with one NIC; loopback hidden):
    eth0  isup=True speed=None mtu=1400
          addresses=[ipv4 192.0.2.2/255.255.255.0, ipv6 fd00::2, mac 02:fc:00:00:00:01]
          bytes_recv_per_s=1843.0 bytes_sent_per_s=512.0 packets_recv_per_s=12.0 packets_sent_per_s=6.0
          errin_per_s=0.0 errout_per_s=0.0 dropin_per_s=0.0 dropout_per_s=0.0
    hidden=['ifb0', 'ifb1', 'lo']
    tcp={'ESTABLISHED': 3, 'LISTEN': 2, 'TIME_WAIT': 1, ...} tcp_total=6

Which interfaces are shown (``visible``): not loopback (unless asked for), not the host end of a
container's veth pair, and not an interface that is down and has never carried a packet (ifb,
unused bridges). A down interface that did carry traffic stays visible: that is news.

TCP states are counted by the kernel's sock_diag dump (monitor/sock_diag.py: one walk of the
socket table for IPv4 and IPv6, 9x cheaper), or from /proc/net/tcp and /proc/net/tcp6 where netlink
is refused; never psutil.net_connections(), which would also map every socket to its process by
walking every /proc/<pid>/fd. State names are psutil's (``psutil.CONN_ESTABLISHED`` == "ESTABLISHED").
The counts are taken every ``TCP_EVERY`` seconds, not every tick: the dump walks the whole
established hash (sized by memory, not by connections), which made it most of the area's cost,
and connection counts are read for their trend (node_exporter leaves its tcpstat collector off by
default for the same cost).

Interface names are cleaned where they are read (monitor/text.py): a name is up to 15 bytes that
whoever created the interface chose (a user namespace's own, a VPN client's tun device).

History series (``series()``): ``network.bytes_recv_per_s``, ``network.bytes_sent_per_s`` (sums
over visible interfaces) and ``network.<interface>.bytes_recv_per_s`` / ``.bytes_sent_per_s``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

from monitor import sock_diag
from monitor.nics import NicRaw, NicReader
from monitor.text import clean

from .base import AreaModel, rate

COUNTERS = ("bytes_recv", "bytes_sent", "packets_recv", "packets_sent",
            "errin", "errout", "dropin", "dropout")

# /proc/net/tcp "st" column (include/net/tcp_states.h) -> psutil's state names.
TCP_STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
    "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
    "0B": "CLOSING", "0C": "NEW_SYN_RECV",
}
STATE_NUMBERS = {int(k, 16): v for k, v in TCP_STATES.items()}  # the same, as sock_diag sees them
HIDDEN_PREFIXES = ("veth",)  # host ends of container network pairs: one per container


class Address(AreaModel):
    family: str  # "ipv4", "ipv6" or "mac"
    address: str
    netmask: str | None


class Interface(AreaModel):
    name: str
    isup: bool
    speed: int | None  # Mbit/s as psutil reports it; None when the driver does not say (VMs)
    duplex: str | None  # "full", "half" or None when unknown
    mtu: int
    addresses: list[Address]
    bytes_recv_per_s: float | None
    bytes_sent_per_s: float | None
    packets_recv_per_s: float | None
    packets_sent_per_s: float | None
    errin_per_s: float | None
    errout_per_s: float | None
    dropin_per_s: float | None
    dropout_per_s: float | None


class Network(AreaModel):
    interfaces: list[Interface]
    hidden: list[str]  # interfaces not shown: loopback, veth pairs, never-used and down
    bytes_recv_per_s: float | None  # sums over the shown interfaces
    bytes_sent_per_s: float | None
    tcp: dict[str, int]  # connection count per state (psutil's names), IPv4 and IPv6 together
    tcp_total: int


def visible(name: str, nic: NicRaw, show_loopback: bool = False) -> bool:
    """Whether an interface is worth a row on the card."""
    if "loopback" in nic.flags.split(",") or name == "lo":
        return show_loopback
    if name.startswith(HIDDEN_PREFIXES):
        return False
    counters = nic.counters or {}
    never_used = not (counters.get("packets_recv") or counters.get("packets_sent"))
    return nic.isup or not never_used


def shape(nics: Mapping[str, NicRaw], prev: Mapping[str, Mapping[str, int]] | None, dt: float,
          tcp: Mapping[str, int], show_loopback: bool = False) -> Network:
    shown, hidden = [], []
    for name in sorted(nics):
        nic = nics[name]
        if not visible(name, nic, show_loopback):
            hidden.append(name)
            continue
        p = (prev or {}).get(name)
        rates = {f"{k}_per_s": rate((nic.counters or {}).get(k), p.get(k) if p else None, dt)
                 for k in COUNTERS}
        shown.append(Interface(
            name=name, isup=nic.isup, speed=nic.speed or None, duplex=nic.duplex, mtu=nic.mtu,
            addresses=[Address(family=f, address=a, netmask=m) for f, a, m in nic.addresses],
            **rates))
    return Network(
        interfaces=shown, hidden=hidden,
        bytes_recv_per_s=_sum(i.bytes_recv_per_s for i in shown),
        bytes_sent_per_s=_sum(i.bytes_sent_per_s for i in shown),
        tcp=dict(tcp), tcp_total=sum(tcp.values()),
    )


def _sum(values: Iterable[float | None]) -> float | None:
    """Sum of rates; None when any interface has no rate yet (the first reading)."""
    values = list(values)
    if any(v is None for v in values):
        return None
    return float(sum(values))  # type: ignore[arg-type]


def count_tcp_states(tables: Iterable[str]) -> dict[str, int]:
    """Texts of /proc/net/tcp and /proc/net/tcp6 -> count per state, every state present."""
    counts = dict.fromkeys(TCP_STATES.values(), 0)
    for text in tables:
        for line in text.splitlines()[1:]:  # first line is the header
            fields = line.split()
            if len(fields) > 3:
                state = TCP_STATES.get(fields[3].upper())
                if state:
                    counts[state] += 1
    return counts


TCP_EVERY = 5.0  # s between two counts of TCP connections by state (see the module's docstring)


log = logging.getLogger("server_monitor.network")


def read_proc_tcp() -> dict[str, int]:
    tables = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path, encoding="ascii", errors="replace") as f:
                tables.append(f.read())
        except OSError:  # no IPv6 in this kernel, or no /proc/net in this sandbox
            pass
    return count_tcp_states(tables)


class NetworkCollector:
    name = "network"
    model = Network
    interval = 0.0
    unwatched_interval = 2.0  # nobody looking: network_errors holds 60 s; rates over 2 s

    def __init__(self, show_loopback: bool = False) -> None:
        self.show_loopback = show_loopback
        self._tcp: tuple[float, dict[str, int]] | None = None  # (monotonic, counts) of the last count
        self._prev: dict[str, Mapping[str, int]] | None = None
        self._prev_at = time.monotonic()
        self._diag = True  # until the kernel or a sandbox refuses netlink once
        self._nics = NicReader()

    def collect(self, now: float) -> Network:
        nics, tcp = self._read(now)
        data = shape(nics, self._prev, now - self._prev_at, tcp, self.show_loopback)
        self._prev = {n: nic.counters for n, nic in nics.items() if nic.counters is not None}
        self._prev_at = now
        return data

    def _read(self, now: float) -> tuple[dict[str, NicRaw], dict[str, int]]:
        nics = {clean(name): nic for name, nic in self._nics.read(now).items()}
        at = time.monotonic()
        if self._tcp is None or at - self._tcp[0] >= TCP_EVERY - 0.05:
            self._tcp = (at, self._count_tcp())
        return nics, self._tcp[1]

    def _count_tcp(self) -> dict[str, int]:
        if self._diag:
            try:
                return sock_diag.count(STATE_NUMBERS)
            except OSError as exc:
                self._diag = False
                log.info("TCP states from /proc/net/tcp: sock_diag refused (%s)", exc)
        return read_proc_tcp()

    def close(self) -> None:
        self._nics.close()

    def series(self, data: Network) -> dict[str, float]:
        out: dict[str, float] = {}
        if data.bytes_recv_per_s is not None and data.bytes_sent_per_s is not None:
            out["network.bytes_recv_per_s"] = data.bytes_recv_per_s
            out["network.bytes_sent_per_s"] = data.bytes_sent_per_s
        for i in data.interfaces:
            if i.bytes_recv_per_s is not None and i.bytes_sent_per_s is not None:
                out[f"network.{i.name}.bytes_recv_per_s"] = i.bytes_recv_per_s
                out[f"network.{i.name}.bytes_sent_per_s"] = i.bytes_sent_per_s
        return out
