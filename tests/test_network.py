"""Network: which interfaces are shown, per-second rates with counter resets, TCP state counts."""
from __future__ import annotations

import socket
import time

import psutil

from monitor.collectors.network import NetworkCollector, NicRaw, count_tcp_states, shape, visible


def nic(isup=True, flags="up,broadcast,running,multicast", counters=None, addresses=()):
    return NicRaw(isup=isup, speed=1000, duplex="full", mtu=1500, flags=flags,
                  addresses=tuple(addresses), counters=counters)


USED = dict(bytes_recv=10, bytes_sent=10, packets_recv=1, packets_sent=1,
            errin=0, errout=0, dropin=0, dropout=0)
UNUSED = dict.fromkeys(USED, 0)


def test_interface_filtering():
    assert not visible("lo", nic(flags="up,loopback,running", counters=USED))
    assert visible("lo", nic(flags="up,loopback,running", counters=USED), show_loopback=True)
    assert not visible("veth1a2b3c", nic(counters=USED))  # a container's host end
    assert not visible("ifb0", nic(isup=False, flags="broadcast,noarp", counters=UNUSED))
    assert visible("eth1", nic(isup=False, counters=USED))  # went down after carrying traffic: news
    assert visible("eth0", nic(counters=UNUSED))  # up, idle: shown
    assert visible("wg0", nic(counters=None))  # up without counters yet


def test_shape_rates_with_counter_reset_and_hidden_list():
    prev = {"eth0": dict(USED, bytes_recv=1000, bytes_sent=4_000_000_000, packets_recv=10,
                         packets_sent=20, errin=1, dropin=2)}
    cur = {
        "eth0": nic(counters=dict(USED, bytes_recv=3000, bytes_sent=500, packets_recv=30,
                                  packets_sent=40, errin=1, dropin=6),
                    addresses=[("ipv4", "192.0.2.2", "255.255.255.0"), ("mac", "02:fc:00:00:00:01", None)]),
        "lo": nic(flags="up,loopback,running", counters=USED),
        "ifb0": nic(isup=False, counters=UNUSED),
    }
    data = shape(cur, prev, 2.0, {"ESTABLISHED": 3, "LISTEN": 2})
    [eth0] = data.interfaces
    assert eth0.bytes_recv_per_s == 1000.0
    assert eth0.bytes_sent_per_s == 250.0  # a wrapped/reset counter counts from zero
    assert (eth0.packets_recv_per_s, eth0.packets_sent_per_s) == (10.0, 10.0)
    assert (eth0.errin_per_s, eth0.dropin_per_s) == (0.0, 2.0)
    assert [a.family for a in eth0.addresses] == ["ipv4", "mac"]
    assert data.hidden == ["ifb0", "lo"]
    assert (data.bytes_recv_per_s, data.bytes_sent_per_s) == (1000.0, 250.0)
    assert data.tcp_total == 5


def test_first_reading_has_no_rates():
    data = shape({"eth0": nic(counters=USED)}, None, 1.0, {})
    assert data.interfaces[0].bytes_recv_per_s is None
    assert data.bytes_recv_per_s is None


def test_speed_zero_means_unknown():
    data = shape({"eth0": NicRaw(isup=True, speed=0, duplex=None, mtu=1400, flags="up",
                                 addresses=(), counters=USED)}, None, 1.0, {})
    assert data.interfaces[0].speed is None


def test_count_tcp_states_from_proc_net_tcp():
    tcp = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000  1000        0 2 1 0 20 4 30 10 -1
   2: 0100007F:D2F0 0100007F:1F90 06 00000000:00000000 03:00000F2A 00000000     0        0 0 3 0
"""
    tcp6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000
   1: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:A1B2 08 00000000:00000000
"""
    counts = count_tcp_states([tcp, tcp6])
    assert counts["LISTEN"] == 2
    assert counts["ESTABLISHED"] == 1
    assert counts["TIME_WAIT"] == 1
    assert counts["CLOSE_WAIT"] == 1
    assert counts["SYN_SENT"] == 0  # every state is present, zero when none
    assert sum(counts.values()) == 5


def test_collector_on_this_machine_hides_loopback_and_counts_a_listening_socket():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        c = NetworkCollector()
        c.collect(time.monotonic())
        time.sleep(0.2)
        data = c.collect(time.monotonic())
    names = [i.name for i in data.interfaces]
    assert "lo" not in names and "lo" in data.hidden
    assert set(names) | set(data.hidden) == set(psutil.net_if_stats())
    assert data.tcp["LISTEN"] >= 1
    assert all(i.bytes_recv_per_s is not None and i.bytes_recv_per_s >= 0 for i in data.interfaces)
    series = c.series(data)
    assert series["network.bytes_recv_per_s"] == data.bytes_recv_per_s
    for i in data.interfaces:
        assert f"network.{i.name}.bytes_sent_per_s" in series

    with_lo = NetworkCollector(show_loopback=True).collect(time.monotonic())
    assert "lo" in [i.name for i in with_lo.interfaces]


def test_loopback_is_shown_only_when_configured(make_client):
    hidden = make_client(tick=60).get("/api/network").json()["network"]
    shown = make_client(tick=60, show_loopback=True).get("/api/network").json()["network"]
    def names(n):
        return {i["name"] for i in n["interfaces"]}
    assert "lo" not in names(hidden) and "lo" in hidden["hidden"]
    assert "lo" in names(shown)
