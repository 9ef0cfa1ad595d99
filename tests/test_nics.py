"""The network area's interface reads (monitor/nics.py) give what psutil gives.

Counters are compared on the same /proc/net/dev text (psutil pointed at it through
``psutil.PROCFS_PATH``): this host's, and a made-up one with hostile names and 64-bit counters.
Flags, MTU, speed, duplex and addresses are compared with psutil on this host, and in a new
network namespace (unshare --net, root), where the only interface is a loopback this test
brings up: the ioctls answer for the reader's namespace, whatever /sys shows.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from monitor import nics
from monitor.nics import NicReader, parse_net_dev

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
HEADER = (b"Inter-|   Receive                                                |  Transmit\n"
          b" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
          b"drop fifo colls carrier compressed\n")


def psutil_counters(tmp_path: Path, text: bytes, monkeypatch) -> dict:
    (tmp_path / "net").mkdir(exist_ok=True)
    (tmp_path / "net" / "dev").write_bytes(text)
    monkeypatch.setattr(psutil, "PROCFS_PATH", str(tmp_path))
    return {n: c._asdict() for n, c in psutil.net_io_counters(pernic=True, nowrap=False).items()}


def made_up_net_dev() -> bytes:
    lines = [HEADER]
    for i in range(300):
        name = b"we\xffird%d" % i if i % 3 == 0 else b"eth%d" % i
        values = [i * 2**40 + k for k in range(16)]  # far past 32 bits, each field its own
        lines.append(b"%8s: " % name + b" ".join(b"%d" % v for v in values) + b"\n")
    return b"".join(lines)


@pytest.mark.parametrize("which", ["this host", "made up"])
def test_the_counters_are_psutils_for_the_same_file(which, tmp_path, monkeypatch):
    text = Path("/proc/net/dev").read_bytes() if which == "this host" else made_up_net_dev()
    ours = {os.fsdecode(k): v for k, v in parse_net_dev(text).items()}
    theirs = psutil_counters(tmp_path, text, monkeypatch)
    assert ours == theirs and ours
    if which == "made up":
        assert len(ours) == 300 and ours["eth1"]["dropout"] == 2**40 + 11
        assert "we\udcffird0" in ours  # undecodable bytes kept as psutil keeps them


def compare_with_psutil(reader: NicReader, now: float) -> dict:
    """What differs between the reader and psutil, read one after the other."""
    ours = reader.read(now)
    stats, addrs = psutil.net_if_stats(), psutil.net_if_addrs()
    assert set(ours) == set(stats)
    wrong = {}
    for name, nic in ours.items():
        st = stats[name]
        want = (st.isup, st.mtu, st.flags, st.speed, nics._DUPLEX.get(st.duplex),
                tuple((nics._FAMILIES[a.family], a.address, a.netmask) for a in addrs.get(name, ())
                      if a.family in nics._FAMILIES))
        got = (nic.isup, nic.mtu, nic.flags, nic.speed, nic.duplex, nic.addresses)
        if got != want:
            wrong[name] = (got, want)
    return wrong


def test_each_interface_is_what_psutil_says_on_this_host():
    reader = NicReader()
    try:
        assert compare_with_psutil(reader, 0.0) == {}
        assert compare_with_psutil(reader, 1.0) == {}  # the second read: held file and socket
        lo = reader.read(2.0)["lo"]
        assert "loopback" in lo.flags.split(",") and lo.counters["bytes_recv"] >= 0
    finally:
        reader.close()


CHILD = r"""
import fcntl, json, socket, struct, sys
sys.path.insert(0, sys.argv[1])
from tests.test_nics import compare_with_psutil
from monitor.nics import NicReader
reader = NicReader()
down = reader.read(0.0)
before = compare_with_psutil(reader, 1.0)
with socket.socket() as s:  # SIOCSIFFLAGS: lo up (IFF_UP | IFF_LOOPBACK)
    fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", 0x1 | 0x8))
up = reader.read(2.0)  # flags changed: speed, duplex and addresses are read at once
after = compare_with_psutil(reader, 3.0)
print(json.dumps({"names": sorted(down), "down": [down["lo"].isup, down["lo"].flags],
                  "up": [up["lo"].isup, up["lo"].flags, [a[1] for a in up["lo"].addresses]],
                  "before": before, "after": after}))
"""


def in_new_network_namespace(code: str, timeout: float = 60) -> dict:
    """Run ``code`` (given this checkout's path) in a new network namespace; its printed JSON."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        if IN_CI:
            pytest.fail("unshare (util-linux) and root are needed: .ci/run installs it")
        pytest.skip("needs unshare and root (a new network namespace)")
    out = subprocess.run([unshare, "--net", sys.executable, "-c", code, str(ROOT)], cwd=ROOT,
                         timeout=timeout, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_in_a_new_network_namespace_the_reader_sees_that_namespace():
    got = in_new_network_namespace(CHILD, timeout=30)
    assert got["names"] == ["lo"]  # this host's eth0 is not in there, whatever /sys shows
    assert got["down"] == [False, "loopback"]
    assert got["up"][0] is True and got["up"][1] == "up,loopback,running"
    assert "127.0.0.1" in got["up"][2]  # the address came with the link, not 10 s later
    assert got["before"] == {} and got["after"] == {}


MANY = """
import fcntl, json, socket, sys, time
sys.path.insert(0, sys.argv[1])
import psutil
from monitor.nics import NicReader
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300):  # SIOCBRADDBR: a bridge, made by the kernel alone (no tool needed)
    fcntl.ioctl(s.fileno(), 0x89a0, b"smbr%d\\0" % i)
got = NicReader().read(time.monotonic())
print(json.dumps({"reader": sorted(got), "psutil": sorted(psutil.net_io_counters(pernic=True)),
                  "rx": {n: r.counters["bytes_recv"] for n, r in got.items()}}))
"""


def test_three_hundred_interfaces_are_all_seen():
    """/proc/net/dev of 300 interfaces (a container host's veths) is 37 KB: a single read of it
    stops at a page, and the reader saw 31 of them. In a new network namespace with 300 bridges
    it sees every one, as psutil does."""
    got = in_new_network_namespace(MANY)
    assert len(got["reader"]) == 301 and got["reader"] == got["psutil"]
    assert "smbr299" in got["reader"] and got["rx"]["smbr299"] == 0


def test_speed_and_addresses_are_read_every_ten_seconds_or_at_once_on_a_change(monkeypatch):
    details = []
    real = nics.read_detail
    monkeypatch.setattr(nics, "read_detail", lambda: details.append(1) or real())
    reader = NicReader()
    try:
        for now in (100.0, 101.0, 105.0, 109.9):
            reader.read(now)
        assert len(details) == 1
        reader.read(100.0 + nics.DETAIL_EVERY)
        assert len(details) == 2
        real_flags = reader._flags_mtu  # an MTU change (injected): read again at the next read
        monkeypatch.setattr(reader, "_flags_mtu",
                            lambda raw: (real_flags(raw)[0], 9000) if raw == b"lo" else real_flags(raw))
        got = reader.read(111.0)
        assert len(details) == 3 and got["lo"].mtu == 9000
        reader.read(112.0)
        assert len(details) == 3
    finally:
        reader.close()


def test_an_interface_gone_between_the_two_reads_is_left_out(tmp_path):
    dev = tmp_path / "dev"
    counters = b" ".join(b"%d" % i for i in range(16))
    dev.write_bytes(HEADER + b"    lo: " + counters + b"\n  ghost0: " + counters + b"\n"
                    + b"a-name-longer-than-ifnamsiz: " + counters + b"\n")
    reader = NicReader(net_dev=str(dev))
    try:
        got = reader.read(0.0)
        assert list(got) == ["lo"] and got["lo"].counters["bytes_recv"] == 0
        assert got["lo"].counters["bytes_sent"] == 8
    finally:
        reader.close()
