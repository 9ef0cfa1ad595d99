"""A literal ``monitor.node_read.read_host()`` reading: the kernel files of a small VM, as text.

Used by the golden /metrics file (tests/test_metrics_golden.py) and the parser tests
(tests/test_metrics_node.py). Shortened from a real Debian 12 VM; one partition (vda1, left out as
node_exporter does), one device-mapper disk with the discard and flush fields, a hostile
interface name.
"""
from __future__ import annotations

NIC = {"address": "52:54:00:12:34:56\n", "broadcast": "ff:ff:ff:ff:ff:ff\n", "duplex": "full\n",
       "operstate": "up\n", "ifalias": "\n", "addr_assign_type": "0\n", "carrier": "1\n",
       "carrier_changes": "2\n", "carrier_up_count": "1\n", "carrier_down_count": "1\n", "dev_id": "0x0\n",
       "dormant": "0\n", "flags": "0x1003\n", "ifindex": "2\n", "iflink": "2\n", "link_mode": "0\n",
       "mtu": "1500\n", "name_assign_type": "4\n", "netdev_group": "0\n", "speed": "1000\n",
       "tx_queue_len": "1000\n", "type": "1\n"}

HOST = {
    "stat": "cpu  2001 4 600 100000 25 0 8 3 0 0\n"
            "cpu0 1000 2 300 50000 12 0 4 1 0 0\ncpu1 1001 2 300 50000 13 0 4 2 10 1\n"
            "intr 98765432 9 0 0\nctxt 123456789\nbtime 1764000000\nprocesses 424242\n"
            "procs_running 3\nprocs_blocked 1\nsoftirq 1 2 3\n",
    "meminfo": "MemTotal:        8388608 kB\nMemFree:         4194304 kB\nMemAvailable:    6291456 kB\n"
               "Buffers:           65536 kB\nCached:           917504 kB\nSwapTotal:       2097152 kB\n"
               "SwapFree:        1572864 kB\nActive(anon):     262144 kB\nShmem:             32768 kB\n"
               "SReclaimable:     131072 kB\nHugePages_Total:       0\nHugepagesize:       2048 kB\n",
    "loadavg": "0.50 0.25 0.12 3/301 4242\n",
    "vmstat": "nr_free_pages 1048576\npgpgin 1000\npgpgout 2000\npswpin 10\npswpout 20\n"
              "pgfault 500000\npgmajfault 300\noom_kill 2\n",
    "pressure_cpu": "some avg10=1.50 avg60=0.80 avg300=0.30 total=1693510805\n"
                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    "pressure_memory": "some avg10=12.00 avg60=4.00 avg300=1.00 total=47643299\n"
                       "full avg10=8.50 avg60=2.50 avg300=0.50 total=30119195\n",
    "pressure_io": "some avg10=3.00 avg60=1.00 avg300=0.20 total=2000000\n"
                   "full avg10=1.00 avg60=0.50 avg300=0.10 total=1500000\n",
    "pressure_irq": None,  # no CONFIG_IRQ_TIME_ACCOUNTING: no family
    "diskstats": " 254       0 vda 1000 10 80000 500 2000 20 160000 1500 0 1800 2100 0 0 0 0 40 30\n"
                 " 254       1 vda1 900 10 70000 450 1900 20 150000 1400 0 1700 2000 0 0 0 0 0 0\n"
                 " 253       0 dm-0 50 0 400 20 60 0 480 30 1 45 50 5 0 4096 7 0 0\n",
    "netdev": "Inter-|   Receive                                                |  Transmit\n"
              " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop "
              "fifo colls carrier compressed\n"
              "    lo:  45587535  300000    0    0    0     0          0         0  45587535  300000    0    0    "
              "0     0       0          0\n"
              "  eth0: 236503795  180000    1    2    0     0          0        12  45680158  120000    0    0    "
              "0     0       0          0\n"
              "ev\x1bil: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
    "nics": {"eth0": NIC, "lo": {**NIC, "address": "00:00:00:00:00:00\n", "operstate": "unknown\n",
                                 "flags": "0x9\n", "speed": None, "duplex": None, "mtu": "65536\n"}},
    "netstat": "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPTimeouts PruneCalled\n"
               "TcpExt: 0 3 3 2 7\nIpExt: InOctets OutOctets InNoRoutes\nIpExt: 281809730 45680158 0\n",
    "snmp": "Ip: Forwarding DefaultTTL InReceives\nIp: 2 64 100\n"
            "Tcp: ActiveOpens PassiveOpens CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts MaxConn\n"
            "Tcp: 1476 1125 2 26994 24608 11 0 364 -1\nUdp: InDatagrams NoPorts InErrors OutDatagrams\n"
            "Udp: 694 0 0 695\n",
    "snmp6": "Ip6InReceives  10\nIp6InOctets  21964\nIp6OutOctets  23076\nUdp6InDatagrams  0\n",
    "sockstat": "sockets: used 22\nTCP: inuse 4 orphan 0 tw 1 alloc 4 mem 10\nUDP: inuse 0 mem 0\n"
                "RAW: inuse 0\nFRAG: inuse 0 memory 0\n",
    "sockstat6": "TCP6: inuse 1\nUDP6: inuse 0\n",
    "entropy_avail": "256\n", "entropy_poolsize": "256\n", "file_nr": "555\t0\t2466170\n",
    "domainname": "(none)\n", "clocksource_available": "kvm-clock tsc acpi_pm \n",
    "clocksource_current": "kvm-clock\n",
    "os_release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                  'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
    "time": 1764150000.25, "tz": ("UTC", 0), "clk_tck": 100, "page_size": 4096,
    "uname": {"sysname": "Linux", "nodename": "web1", "release": "6.1.0-27-amd64",
              "version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)", "machine": "x86_64"},
}
