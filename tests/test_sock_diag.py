"""TCP states through sock_diag (monitor/sock_diag.py) count what /proc/net/tcp counts.

The comparison runs in a new network namespace (unshare --net, as root like the services
tests), where the only sockets are the ones the child makes: LISTEN (IPv4 and IPv6),
ESTABLISHED, CLOSE_WAIT, FIN_WAIT2 and TIME_WAIT. Other jobs' sockets cannot change the counts.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.collectors import network
from monitor.collectors.network import NetworkCollector

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"

CHILD = r"""
import fcntl, json, socket, struct, sys, time
# lo is down in a new namespace: bring it up (SIOCSIFFLAGS, IFF_UP) to connect on 127.0.0.1.
with socket.socket() as s:
    fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", 0x1 | 0x8))
from monitor import sock_diag
from monitor.collectors import network
keep = []
def listener(family, host):
    s = socket.socket(family); s.bind((host, 0)); s.listen(); keep.append(s); return s
l4, l6 = listener(socket.AF_INET, "127.0.0.1"), listener(socket.AF_INET6, "::1")
for l in (l4, l4, l4, l6):  # 3 IPv4 and 1 IPv6 connected pairs
    c = socket.create_connection(l.getsockname()[:2]); a, _ = l.accept(); keep += [c, a]
keep[-1].close()  # the accepted IPv6 end closes first: the client is CLOSE_WAIT, it FIN_WAIT2
keep[2].close(); keep[3].close()  # an IPv4 pair closed by the client first: it is TIME_WAIT
time.sleep(0.3)
print(json.dumps({"diag": sock_diag.count(network.STATE_NUMBERS),
                  "proc": network.read_proc_tcp()}))
"""


def namespace_counts() -> dict:
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        if IN_CI:
            pytest.fail("unshare (util-linux) and root are needed: scripts/test installs it")
        pytest.skip("needs unshare and root (a new network namespace)")
    out = subprocess.run([unshare, "--net", sys.executable, "-c", CHILD], cwd=ROOT, timeout=30,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_sock_diag_counts_each_state_as_proc_net_tcp_does():
    counts = namespace_counts()
    assert counts["diag"] == counts["proc"]
    assert counts["diag"]["LISTEN"] == 2
    assert counts["diag"]["ESTABLISHED"] == 4  # both ends of the 2 IPv4 pairs left open
    assert counts["diag"]["CLOSE_WAIT"] == 1
    assert counts["diag"]["FIN_WAIT2"] == 1
    assert counts["diag"]["TIME_WAIT"] == 1
    assert set(counts["diag"]) == set(network.TCP_STATES.values())  # every state, zero when none


def test_collector_falls_back_to_proc_net_tcp_when_netlink_is_refused(monkeypatch):
    def refused(names):
        raise PermissionError(13, "netlink refused (as RestrictAddressFamilies without AF_NETLINK)")
    proc_reads = []
    real = network.read_proc_tcp
    monkeypatch.setattr(network.sock_diag, "count", refused)
    monkeypatch.setattr(network, "read_proc_tcp", lambda: proc_reads.append(1) or real())
    c = NetworkCollector()
    first = c.collect(0.0)
    c._tcp = (c._tcp[0] - network.TCP_EVERY, c._tcp[1])  # the next count is due
    c.collect(1.0)
    assert proc_reads == [1, 1]  # refused once, then /proc at every count without asking again
    assert c._diag is False
    assert set(first.tcp) == set(network.TCP_STATES.values())


def test_connections_are_counted_every_tcp_every_seconds_not_every_tick(monkeypatch):
    counted = []
    real = network.sock_diag.count
    monkeypatch.setattr(network.sock_diag, "count", lambda names: counted.append(1) or real(names))
    c = NetworkCollector()
    first = c.collect(0.0)
    assert c.collect(1.0).tcp == first.tcp and counted == [1]  # within TCP_EVERY: the last count
    c._tcp = (c._tcp[0] - network.TCP_EVERY, c._tcp[1])
    c.collect(2.0)
    assert counted == [1, 1]
