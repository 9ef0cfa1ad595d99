"""The network area's reading of each interface, with psutil's meanings (issue 19: psutil's
``net_if_stats`` opened a socket for each of three ioctls per interface and read /proc/net/dev
a second time; with ``net_if_addrs`` the area cost a millisecond a read).

Every read:
- /proc/net/dev, held open (monitor/procfile.py), parsed as psutil's
  ``net_io_counters(pernic=True)``: the interface names and their counters;
- each interface's flags (SIOCGIFFLAGS) and MTU (SIOCGIFMTU) by ioctl on one socket kept open.
  An ioctl answers for the socket's network namespace, as psutil's do; /sys/class/net may be
  another namespace's. ``isup`` is psutil's: the flags have IFF_RUNNING.

Now and then: speed and duplex (psutil's ``net_if_stats``: the ethtool ioctl) and addresses
(``net_if_addrs``), every ``DETAIL_EVERY`` seconds, and at once when an interface appeared or
went, or any interface's flags or MTU changed (a link that came up, a new VPN device).
"""
from __future__ import annotations

import errno
import fcntl
import os
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass

import psutil

from .procfile import HeldFile

# psutil's names for the 16 bits SIOCGIFFLAGS answers (include/uapi/linux/if.h), lowest first.
FLAG_NAMES = ("up", "broadcast", "debug", "loopback", "pointopoint", "notrailers", "running",
              "noarp", "promisc", "allmulti", "master", "slave", "multicast", "portsel",
              "automedia", "dynamic")
IFF_RUNNING = 0x40
SIOCGIFFLAGS, SIOCGIFMTU = 0x8913, 0x8921
IFREQ = struct.Struct("16s24x")  # struct ifreq: the name, then a 24-byte union (flags, mtu)
IFNAMSIZ = 16
DETAIL_EVERY = 10.0  # s between two reads of speed, duplex and addresses when nothing changed

_FAMILIES = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6", psutil.AF_LINK: "mac"}
_DUPLEX = {psutil.NIC_DUPLEX_FULL: "full", psutil.NIC_DUPLEX_HALF: "half"}


@dataclass(frozen=True)
class NicRaw:
    isup: bool
    speed: int
    duplex: str | None
    mtu: int
    flags: str  # "up,broadcast,running,multicast"; "loopback" marks lo
    addresses: tuple[tuple[str, str, str | None], ...]  # (family, address, netmask)
    counters: Mapping[str, int] | None  # net_io_counters(pernic=True)[name]._asdict()


def parse_net_dev(data: bytes) -> dict[bytes, dict[str, int]]:
    """/proc/net/dev's text -> {raw name: counters}, psutil's fields (net_io_counters)."""
    out = {}
    for line in data.splitlines()[2:]:  # two header lines
        name, colon, rest = line.rpartition(b":")
        f = rest.split()
        if colon and len(f) >= 16:
            out[name.strip()] = {
                "bytes_sent": int(f[8]), "bytes_recv": int(f[0]),
                "packets_sent": int(f[9]), "packets_recv": int(f[1]),
                "errin": int(f[2]), "errout": int(f[10]), "dropin": int(f[3]), "dropout": int(f[11]),
            }
    return out


def flag_names(flags: int) -> str:
    return ",".join(n for bit, n in enumerate(FLAG_NAMES) if flags & (1 << bit))


def read_detail() -> tuple[dict[str, tuple[int, str | None]], dict[str, tuple]]:
    """psutil's speed and duplex, and addresses, per interface name."""
    links = {n: (st.speed, _DUPLEX.get(st.duplex)) for n, st in psutil.net_if_stats().items()}
    addrs = {n: tuple((_FAMILIES[a.family], a.address, a.netmask) for a in got if a.family in _FAMILIES)
             for n, got in psutil.net_if_addrs().items()}
    return links, addrs


class NicReader:
    """One collector's reads of the interfaces (one thread at a time, as HeldFile)."""

    def __init__(self, net_dev: str = "/proc/net/dev") -> None:
        self._dev = HeldFile(net_dev)
        self._sock: socket.socket | None = None
        self._detail: tuple[dict, dict] = ({}, {})
        self._detail_key: dict[str, tuple[int, int]] | None = None  # flags and MTU it was read at
        self._detail_at = 0.0

    def read(self, now: float) -> dict[str, NicRaw]:
        """Every interface by name (undecodable bytes kept as surrogates, as psutil's names)."""
        counters = parse_net_dev(self._dev.read())
        links = {}
        for raw, c in counters.items():
            try:
                links[os.fsdecode(raw)] = (*self._flags_mtu(raw), c)
            except OSError as exc:
                if exc.errno != errno.ENODEV:  # gone since /proc/net/dev was read: psutil's way
                    raise
        key = {name: (flags, mtu) for name, (flags, mtu, _) in links.items()}
        if key != self._detail_key or now - self._detail_at >= DETAIL_EVERY:
            self._detail, self._detail_key, self._detail_at = read_detail(), key, now
        speeds, addrs = self._detail
        return {name: NicRaw(isup=bool(flags & IFF_RUNNING), speed=speeds.get(name, (0, None))[0],
                             duplex=speeds.get(name, (0, None))[1], mtu=mtu, flags=flag_names(flags),
                             addresses=addrs.get(name, ()), counters=c)
                for name, (flags, mtu, c) in links.items()}

    def _flags_mtu(self, raw: bytes) -> tuple[int, int]:
        if len(raw) >= IFNAMSIZ:  # no such interface can exist; do not let the kernel cut it
            raise OSError(errno.ENODEV, "name too long")
        if self._sock is None:
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        req = IFREQ.pack(raw)
        flags = struct.unpack_from("H", fcntl.ioctl(self._sock, SIOCGIFFLAGS, req), IFNAMSIZ)[0]
        mtu = struct.unpack_from("i", fcntl.ioctl(self._sock, SIOCGIFMTU, req), IFNAMSIZ)[0]
        return flags, mtu

    def close(self) -> None:
        self._dev.close()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
