"""The process table and one process's detail shaped from literal readings (no host needed)."""
from __future__ import annotations

import socket
from collections import namedtuple

from monitor.collectors.processes import ProcessesRaw, ProcRaw, shape
from monitor.masking import MASK
from monitor.process_rows import CommandCache, ProcessRow
from monitor.process_shape import DENIED, DetailRaw
from monitor.process_shape import shape as shape_detail

GiB = 2**30


def proc(pid, name="app", user="app", status="sleeping", cpu=1.5, rss=GiB // 4, argv="", **kw):
    return ProcRaw(pid=pid, name=name, username=user, cmdline=argv if argv != "" else [f"/usr/bin/{name}"],
                   status=status, cpu_percent=cpu, rss=rss, num_threads=2, nice=0,
                   create_time=1000.0 + pid, ppid=1, **kw)


def test_table_from_a_literal_reading():
    raw = ProcessesRaw([
        proc(1, "systemd", "root", cpu=0.04),
        proc(2, "kthreadd", "root", rss=None, argv=[]),
        proc(300, "postgres", argv=["/usr/bin/postgres", "--password=hunter2"], cpu=12.345, rss=GiB),
        proc(301, "dd", status="disk-sleep", first=True, cpu=0.0),
        proc(302, "", user=None, status="zombie", cpu=None, rss=None, argv=None),
    ], total_memory=4 * GiB)
    data = shape(raw)
    rows = {r.pid: r for r in data.rows}
    assert data.total == 5 and data.threads == 10
    assert data.counts == {"sleeping": 3, "disk-sleep": 1, "zombie": 1}
    pg = rows[300]
    assert pg.cpu_percent == 12.3 and pg.memory_percent == 25.0 and pg.rss == GiB
    assert pg.cmdline == ["/usr/bin/postgres", f"--password={MASK}"]
    assert pg.command == f"postgres --password={MASK}"
    assert rows[2].command == "[kthreadd]" and rows[2].memory_percent is None
    assert rows[301].cpu_percent is None  # a first read is not a measurement
    assert rows[302].name == "302" and rows[302].username is None and rows[302].cmdline == []
    assert [r.pid for r in data.top_cpu] == [300, 2, 1]  # unmeasured ones (301, 302) are not "top"
    assert [r.pid for r in data.top_memory][0] == 300


def test_table_masking_off_and_the_command_cache():
    argv = ["/usr/bin/tool", "--token=abc"]
    plain = shape(ProcessesRaw([proc(7, "tool", argv=argv)], 0), commands=CommandCache(mask=False))
    assert plain.rows[0].cmdline == argv and plain.rows[0].memory_percent is None  # no total: no share
    cache = CommandCache()
    first = cache.shaped(7, argv, "tool")
    assert cache.shaped(7, list(argv), "tool") is not None and cache.pids() == {7}
    assert cache.shaped(7, argv, "tool")[0] is first[0]  # the same argv is not masked again
    cache.forget(7)
    assert cache.pids() == set()


def test_table_series_name_the_disk_sleep_state():
    from monitor.collectors.processes import ProcessesCollector
    data = shape(ProcessesRaw([proc(1, status="disk-sleep"), proc(2, status="running")], GiB))
    assert ProcessesCollector.series(None, data) == {  # type: ignore[arg-type]
        "processes.total": 2, "processes.running": 1, "processes.disk_sleep": 1}


# -- one process's detail ------------------------------------------------------------------------

Uids = namedtuple("Uids", "real effective saved")
Mem = namedtuple("Mem", "rss vms shared")
Full = namedtuple("Full", "uss pss swap")
Ionice = namedtuple("Ionice", "ioclass value")
Times = namedtuple("Times", "user system children_user children_system iowait")
IoC = namedtuple("IoC", "read_count write_count read_bytes write_bytes read_chars write_chars")
File = namedtuple("File", "path fd")
Addr = namedtuple("Addr", "ip port")
Conn = namedtuple("Conn", "fd family type laddr raddr status")


def detail_values(**change):
    values = dict(
        name="sshd", ppid=1, cmdline=["/usr/sbin/sshd", "-D", "--password", "s3cret"],
        uids=Uids(0, 0, 0), gids=Uids(0, 0, 0), memory=Mem(7_700_000, 20_000_000, 6_000_000),
        memory_full_info=Full(2_200_000, 3_000_000, 0), cpu_times=Times(1.5, 0.5, 0.0, 0.0, 0.0),
        io=IoC(10, 2, 4096, 0, 9000, 100), num_fds=5, exe="/usr/sbin/sshd", cwd="/",
        username="root", status="sleeping", num_threads=1, nice=0, ionice=Ionice(2, 4),
        open_files=[File(f"/var/log/f{i}\x1b.log", i) for i in range(30)],
        connections=[Conn(3, socket.AF_INET, socket.SOCK_STREAM, Addr("0.0.0.0", 22), (), "LISTEN"),
                     Conn(4, socket.AF_INET6, socket.SOCK_STREAM, Addr("::1", 22), Addr("::1", 5000),
                          "ESTABLISHED")],
        cgroups=b"0::/system.slice/sshd.service\n", oom_score=b"0\n", oom_score_adj=b"-1000\n")
    values.update(change)
    return values


def row(pid, ppid, name, start):
    return ProcessRow(pid=pid, ppid=ppid, name=name, username="root", status="sleeping",
                      cpu_percent=0.5, memory_percent=0.1, rss=1, num_threads=1, nice=0,
                      create_time=start, command=name, cmdline=[name])


def test_detail_from_a_literal_reading():
    rows = {1: row(1, 0, "systemd", 10.0), 900: row(900, 1, "sshd", 1000.0),
            950: row(950, 900, "sshd-session", 1500.0), 951: row(951, 900, "old-child", 900.0)}
    d = shape_detail(DetailRaw(900, 1000.0, detail_values(), io_rates=(512.0, 0.0), now=1060.0), rows)
    assert (d.pid, d.name, d.age, d.cpu_percent, d.status) == (900, "sshd", 60.0, 0.5, "sleeping")
    assert d.cmdline == ["/usr/sbin/sshd", "-D", "--password", MASK]
    assert d.unit == "sshd.service" and d.slice == "system.slice"
    assert (d.oom_score, d.oom_score_adj) == (0, -1000)
    assert d.memory.uss == 2_200_000 and d.memory.shared == 6_000_000
    assert d.io.read_bytes_per_s == 512.0 and d.io.read_chars == 9000
    assert d.cpu_times.user == 1.5 and d.uids == {"real": 0, "effective": 0, "saved": 0}
    assert d.ionice == {"ioclass": 2, "value": 4}
    assert d.open_files_total == 30 and len(d.open_files) == 20
    assert d.open_files[0].path == "/var/log/f0\\x1b.log"  # cleaned
    assert [(c.laddr, c.raddr, c.family) for c in d.connections] == [
        ("0.0.0.0:22", "", "AF_INET"), ("[::1]:22", "[::1]:5000", "AF_INET6")]
    assert d.parent.name == "systemd"
    assert [c.pid for c in d.children] == [950]  # 951 started before 900: not its child
    assert d.denied == []


def test_detail_denied_fields_are_none_and_listed_in_order():
    values = detail_values(cwd=DENIED, io=DENIED, exe=DENIED, open_files=DENIED, cgroups=DENIED,
                           memory_full_info=None, cmdline=["/bin/x", "--password=p"])
    d = shape_detail(DetailRaw(900, 1000.0, values, now=999.0), mask=False)
    assert d.denied == ["io", "exe", "cwd", "open_files", "cgroups"]
    assert d.cwd is None and d.io is None and d.open_files is None and d.cgroups == []
    assert d.memory.uss is None  # not read (nothing to read), not denied
    assert d.cmdline == ["/bin/x", "--password=p"]  # mask=False
    assert d.age == 0.0 and d.cpu_percent is None and d.parent is None and d.children == []


def test_detail_of_a_process_whose_row_is_another_process():
    rows = {900: row(900, 1, "other", 5000.0)}  # the table's PID 900 started later: a reuse
    d = shape_detail(DetailRaw(900, 1000.0, detail_values(name=None), now=1001.0), rows)
    assert d.cpu_percent is None and d.name == "900"
