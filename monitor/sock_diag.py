"""TCP connections counted per state through the kernel's sock_diag netlink interface.

Why not /proc/net/tcp and /proc/net/tcp6: each of those reads walks the whole established hash
table (sized by memory: 262,144 buckets on a 2-core VM) and prints every socket as text, twice
(once per file, the table is shared): 2.8 ms a tick on an idle machine, the network area's whole
cost. One sock_diag dump (the request ``ss`` sends) walks it once for IPv4 and IPv6 together and
sends 72 bytes per socket: 0.3 ms. The inet_diag "compat" request (TCPDIAG_GETSOCK) is used
because it asks for every address family in one dump.

``count()`` returns the same dict as network.count_tcp_states() (psutil's state names, every
state present) or raises OSError when the kernel or a sandbox refuses netlink (no AF_NETLINK,
no inet_diag); the network collector then reads /proc/net/tcp as before.
"""
from __future__ import annotations

import socket
import struct
from collections.abc import Mapping

NETLINK_SOCK_DIAG = 4
TCPDIAG_GETSOCK = 18  # linux/inet_diag.h: the compat request, family AF_UNSPEC in the kernel
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLMSG_HDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
# Every state 1 (ESTABLISHED) ... 12 (NEW_SYN_RECV: a connection request, shown as SYN_RECV as
# /proc/net/tcp shows it); not bit 13 (bound, never listened: /proc/net/tcp does not list those).
ALL_STATES = sum(1 << s for s in range(1, 13))
TIMEOUT = 1.0  # s: a dump the kernel does not finish must not hold the collector
MAX_MESSAGES = 4_000_000  # bounded: more sockets than any host holds


def _request() -> bytes:
    # struct inet_diag_req: family, src_len, dst_len, ext, inet_diag_sockid (48 bytes), states, dbs
    body = struct.pack("=BBBB", socket.AF_INET, 0, 0, 0) + bytes(48) + struct.pack("=II", ALL_STATES, 0)
    return NLMSG_HDR.pack(NLMSG_HDR.size + len(body), TCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body


def count(names: Mapping[int, str]) -> dict[str, int]:
    """Sockets per state name; ``names`` maps the kernel's state number to the name to count
    under (network.py's TCP_STATES by number). Raises OSError when netlink cannot answer."""
    counts = dict.fromkeys(names.values(), 0)
    seen = 0
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as s:
        s.settimeout(TIMEOUT)
        s.send(_request())
        while seen < MAX_MESSAGES:
            data = s.recv(1 << 16)
            if not data:
                raise OSError("sock_diag: connection closed before the end of the dump")
            off = 0
            while off + NLMSG_HDR.size <= len(data):
                length, kind = NLMSG_HDR.unpack_from(data, off)[:2]
                if kind == NLMSG_DONE:
                    return counts
                if kind == NLMSG_ERROR:
                    errno = -struct.unpack_from("=i", data, off + NLMSG_HDR.size)[0]
                    raise OSError(errno, "sock_diag refused the dump")
                if length < NLMSG_HDR.size + 2:
                    raise OSError("sock_diag: malformed message")
                name = names.get(data[off + NLMSG_HDR.size + 1])  # inet_diag_msg.idiag_state
                if name:
                    counts[name] += 1
                seen += 1
                off += (length + 3) & ~3
    raise OSError("sock_diag: dump longer than any host holds")
