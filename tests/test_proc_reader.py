"""monitor/proc_reader.py's Reader: stat and statm every read (kept open), status and cmdline when due.

Real processes made by the test, real /proc. A child retitles itself the way setproctitle does
(it overwrites its argument area through /proc/self/mem, so comm stays the same), and the test
checks when the Reader sees it. Age is the Reader's ``uptime`` argument: a test that needs an
old process passes an uptime an hour ahead instead of waiting.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from monitor import proc_stat
from monitor.proc_reader import REREAD, Reader

# The child: argv[1] is its title. On each line of stdin it writes the line over its argument
# area (same length, NUL-padded), or with "comm " before it, writes it to its comm (only a
# process itself may), or on "burn" spends 0.3 s of CPU, then answers "ok".
RETITLE = r"""
import sys
stat = open("/proc/self/stat", "rb").read()
fields = stat[stat.rfind(b")") + 2:].split()
start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (proc(5) fields 48, 49)
print("ready", flush=True)
for line in sys.stdin:
    if line == "burn\n":
        import time
        t = time.process_time()
        while time.process_time() - t < 0.3:
            pass
        print("ok", flush=True)
        continue
    if line.startswith("comm "):
        open("/proc/self/comm", "w").write(line[5:].strip())
        print("ok", flush=True)
        continue
    title = line.strip().encode()[: end - start - 1]
    with open("/proc/self/mem", "r+b", buffering=0) as mem:
        mem.seek(start)
        mem.write(title + b"\0" * (end - start - len(title)))
    print("ok", flush=True)
"""


@pytest.fixture
def retitler():
    child = subprocess.Popen([sys.executable, "-c", RETITLE, "first-title" + "x" * 40],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        yield child
    finally:
        child.kill()
        child.wait(10)


def retitle(child: subprocess.Popen, title: str) -> None:
    child.stdin.write(title + "\n")
    child.stdin.flush()
    assert child.stdout.readline() == "ok\n"


def uptime() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


OLD = 3600.0  # added to the uptime: every process made here is then an hour old


def test_an_old_process_is_read_whole_again_only_when_its_turn_comes(retitler):
    reader, pid = Reader(), retitler.pid
    first = reader.read(pid, now=0.0, uptime=uptime() + OLD)
    assert not first.reused and first.cmdline[-1].startswith("first-title")
    retitle(retitler, "second-title")
    again = reader.read(pid, now=1.0, uptime=uptime() + OLD)
    assert again.reused  # stat and statm only: the title is the one read before
    assert (again.cmdline, again.uid, again.name) == (first.cmdline, first.uid, first.name)
    assert again.rss and again.cpu_ticks is not None  # what moves is read every time
    due = reader.read(pid, now=REREAD + 0.001, uptime=uptime() + OLD)
    assert not due.reused and due.cmdline[0] == "second-title"


def test_a_young_process_is_read_whole_every_time(retitler):
    reader, pid = Reader(), retitler.pid
    assert uptime() - reader.read(pid, 0.0, uptime()).start_ticks / proc_stat.CLK_TCK < 5
    retitle(retitler, "second-title")
    st = reader.read(pid, 1.0, uptime())
    assert not st.reused and st.cmdline[0] == "second-title"


def test_a_changed_comm_reads_the_process_whole(retitler):
    reader, pid = Reader(), retitler.pid
    reader.read(pid, 0.0, uptime() + OLD)
    retitle(retitler, "second-title")
    retitle(retitler, "comm renamed")  # what an exec or PR_SET_NAME does to comm
    st = reader.read(pid, 1.0, uptime() + OLD)
    assert not st.reused and (st.name, st.cmdline[0]) == ("renamed", "second-title")


def test_a_turn_comes_within_reread_and_not_before_half_of_it(retitler):
    reader, pid = Reader(), retitler.pid
    reader.read(pid, 0.0, uptime() + OLD)
    assert reader.read(pid, REREAD / 2 - 0.001, uptime() + OLD).reused
    turn = [t for t in (REREAD / 2 + i * 0.1 for i in range(51))
            if not reader.read(pid, t, uptime() + OLD).reused]
    assert turn and turn[0] <= REREAD  # read whole once its turn came, then reused again
    assert reader.read(pid, turn[0] + 0.05, uptime() + OLD).reused


def test_another_process_under_the_same_pid_is_read_whole(retitler):
    """A reused pid: the same pid and comm, another start time (made here by editing the
    earlier read, since a pid cannot be made to be reused on demand)."""
    pid = retitler.pid
    known = proc_stat.read_pid(pid)
    stale = proc_stat.PidStat(**{**{f: getattr(known, f) for f in known.__slots__},
                                 "start_ticks": known.start_ticks - 1, "cmdline": ["other"],
                                 "uid": 12345})
    st = proc_stat.read_pid(pid, reuse=stale)
    assert not st.reused and st.cmdline != ["other"] and st.uid == os.getuid()
    same = proc_stat.read_pid(pid, reuse=known)
    assert same.reused and same.cmdline == known.cmdline


def test_a_zombie_is_read_whole_and_has_no_arguments():
    child = subprocess.Popen([sys.executable, "-c", "print('ready', flush=True)"],
                             stdout=subprocess.PIPE, text=True)
    try:
        known = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # bounded: until the child has exited, unreaped
            st = proc_stat.read_pid(child.pid)
            if st.status == "zombie":
                break
            known = st
            time.sleep(0.01)
        assert st.status == "zombie" and known is not None
        zombie = proc_stat.read_pid(child.pid, reuse=proc_stat.PidStat(
            **{**{f: getattr(known, f) for f in known.__slots__}, "comm": st.comm,
               "start_ticks": st.start_ticks}))
        assert not zombie.reused and zombie.cmdline is None
    finally:
        child.wait(10)


def test_the_collector_reuses_and_forgets(retitler):
    """Through the table: the collector's Reader drops a process that has gone."""
    from monitor.collectors.processes import ProcessesCollector
    c = ProcessesCollector()
    c.read()
    assert retitler.pid in c._reader._whole
    retitler.kill()
    retitler.wait(10)
    c.read()
    assert retitler.pid not in c._reader._whole


def fds_open() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_stat_and_statm_stay_open_and_mean_the_same(retitler):
    pid, before = retitler.pid, fds_open()
    reader = Reader()
    held = reader.read(pid, 0.0, uptime() + OLD)
    assert reader.held() == 1 and fds_open() == before + 2
    by_path = proc_stat.read_pid(pid)
    assert (held.name, held.cmdline, held.uid, held.start_ticks, held.ppid) == (
        by_path.name, by_path.cmdline, by_path.uid, by_path.start_ticks, by_path.ppid)
    retitle(retitler, "burn")
    again = reader.read(pid, 1.0, uptime() + OLD)
    assert again.reused and again.rss and fds_open() == before + 2
    assert again.cpu_ticks >= held.cpu_ticks + 0.2 * proc_stat.CLK_TCK  # read anew, not kept
    reader.close()
    assert reader.held() == 0 and fds_open() == before


def test_a_held_process_that_has_gone_is_none_and_its_files_closed(retitler):
    pid, before = retitler.pid, fds_open()
    reader = Reader()
    assert reader.read(pid, 0.0, uptime()) is not None and fds_open() == before + 2
    retitler.kill()
    retitler.wait(10)  # reaped: the open files now answer ESRCH
    assert reader.read(pid, 1.0, uptime()) is None
    assert reader.held() == 0 and fds_open() == before


def test_holding_stops_at_the_budget_and_the_rest_read_by_path(retitler):
    reader = Reader(hold=0)
    st = reader.read(retitler.pid, 0.0, uptime())
    assert st is not None and st.cmdline[-1].startswith("first-title") and reader.held() == 0


def test_a_dropped_reader_gives_its_files_back(retitler):
    before = fds_open()
    reader = Reader()
    reader.read(retitler.pid, 0.0, uptime())
    assert fds_open() == before + 2
    del reader
    assert fds_open() == before


BUDGET = r"""
import resource, sys
from monitor import proc_reader
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), hard))
before = proc_reader.hold_budget()
proc_reader.raise_fd_limit()
print(before, resource.getrlimit(resource.RLIMIT_NOFILE)[0], proc_reader.hold_budget(), hard)
"""


@pytest.mark.parametrize("soft", [1024, 1500])
def test_the_budget_leaves_the_reserve_and_the_limit_is_raised_within_hard(soft):
    from monitor.proc_reader import FD_RESERVE, FD_WANTED, HOLD_CAP
    out = subprocess.run([sys.executable, "-c", BUDGET, str(soft)], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(__file__)), timeout=60, check=True)
    before, raised, after, hard = (int(x) for x in out.stdout.split())
    assert before == max(0, (soft - FD_RESERVE) // 2)  # 0 at systemd's soft 1,024: nothing held
    assert raised == min(hard, FD_WANTED)
    assert after == min(HOLD_CAP, (raised - FD_RESERVE) // 2)


def test_boot_time_is_psutils_and_is_read_again_only_when_the_clocks_moved(tmp_path):
    """btime is read from /proc/stat once; again when ``time.time() - CLOCK_BOOTTIME`` leaves it
    (a stepped wall clock moves both). A root whose btime disagrees with the clocks is read
    at every call, so a change there shows at once."""
    import psutil
    assert proc_stat.boot_time() == psutil.boot_time()
    since = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
    root = tmp_path / "agreeing"
    root.mkdir()
    (root / "stat").write_text(f"cpu 1 2 3 4\nbtime {int(since)}\n")
    assert proc_stat.boot_time(str(root)) == int(since)
    (root / "stat").write_text(f"cpu 1 2 3 4\nbtime {int(since) + 1}\n")  # the clocks did not move
    assert proc_stat.boot_time(str(root)) == int(since)  # kept, not read again
    stepped = tmp_path / "stepped"  # as if the wall clock had been set an hour back since boot
    stepped.mkdir()
    (stepped / "stat").write_text(f"btime {int(since) + 3600}\n")
    assert proc_stat.boot_time(str(stepped)) == int(since) + 3600
    (stepped / "stat").write_text(f"btime {int(since) + 7200}\n")
    assert proc_stat.boot_time(str(stepped)) == int(since) + 7200  # disagrees: read each time


def settle(child: subprocess.Popen, timeout: float = 10.0) -> None:
    """Until the child sleeps and its stat and statm stay the same for 0.3 s: a child that has
    just answered may still be on its way back to reading stdin (bounded in time)."""
    def text() -> bytes:
        return (open(f"/proc/{child.pid}/stat", "rb").read()
                + open(f"/proc/{child.pid}/statm", "rb").read())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = text()
        time.sleep(0.3)
        if text() == before and b") S " in before:
            return
    pytest.fail(f"child {child.pid} did not settle in {timeout} s")


def test_an_unchanged_process_is_the_same_read_until_it_runs(retitler):
    """A process that has not run since the last read has the same stat and statm text: unless
    its whole read is due, the Reader gives back the same PidStat, unparsed. Once it runs, a new
    one, with the new CPU ticks."""
    settle(retitler)
    r = Reader()
    now = time.monotonic()
    first = r.read(retitler.pid, now, uptime() + OLD)
    assert not first.reused  # first seen: read whole
    again = r.read(retitler.pid, now + 1, uptime() + OLD)
    assert again.reused and again == replace_reused(first)
    assert r.read(retitler.pid, now + 2, uptime() + OLD) is again
    retitle(retitler, "burn")
    settle(retitler)
    busier = r.read(retitler.pid, now + 3, uptime() + OLD)
    assert busier is not again and busier.cpu_ticks > again.cpu_ticks
    assert busier.reused and busier.cmdline == again.cmdline
    assert r.read(retitler.pid, now + REREAD, uptime() + OLD).reused is False  # its turn still comes


def replace_reused(st):
    from dataclasses import replace
    return replace(st, reused=True)


def test_the_collector_keeps_an_idle_processs_row_and_remakes_a_busy_one(retitler, monkeypatch):
    """Through the table: an idle process keeps its row, the same object, read after read; one
    that ran gets a new row with its CPU; a process that has gone leaves nothing behind."""
    from monitor import proc_reader
    from monitor.collectors.processes import ProcessesCollector
    monkeypatch.setattr(proc_reader, "YOUNG", 0.0)  # the child is seconds old: count it as settled
    c = ProcessesCollector()

    def row():
        time.sleep(0.2)
        return next(x for x in c.collect(time.monotonic()).rows if x.pid == retitler.pid)

    settle(retitler)
    rows = [row() for _ in range(4)]
    assert rows[0].cpu_percent is None  # first seen
    assert rows[1].cpu_percent == 0.0 and rows[1] is rows[2] is rows[3]
    retitle(retitler, "burn")
    busy = row()
    assert busy is not rows[3] and busy.cpu_percent > 10 and busy.pid == rows[3].pid
    settle(retitler)
    row()  # the read after the burn: idle since, 0.0, a new row once more
    settled = row()
    assert settled.cpu_percent == 0.0 and row() is settled
    retitler.kill()
    retitler.wait(10)
    row_pids = {x.pid for x in c.collect(time.monotonic()).rows}
    assert retitler.pid not in row_pids and retitler.pid not in c._rows
    assert retitler.pid not in c._raws and set(c._rows) == row_pids
