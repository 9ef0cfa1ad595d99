"""Process table shaping on literal input: command lines, masking, counts, sorting, filtering,
cgroups, the table's URL state; and the collector surviving processes that vanish or deny."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from monitor import proc_stat

from monitor.collectors.processes import (
    ProcessesCollector,
    ProcessRow,
    filter_rows,
    printable,
    short_cmdline,
    sort_rows,
    status_counts,
    summarize,
)
from monitor.masking import MASK, mask_argv, mask_text
from monitor.process_detail import parse_cgroup, systemd_path, unit_of
from views.processes import TableState, history_headers, parse_open


def row(pid, name="p", user="root", status="sleeping", cpu=0.0, rss=1000, threads=1,
        start=1000.0, argv=None, ppid=1) -> ProcessRow:
    argv = argv if argv is not None else [name]
    return ProcessRow(pid=pid, ppid=ppid, name=name, username=user, status=status, cpu_percent=cpu,
                      memory_percent=None if rss is None else rss / 1e6, rss=rss,
                      num_threads=threads, nice=0, create_time=start,
                      command=short_cmdline(argv, name), cmdline=argv)


# -- command line shortening ------------------------------------------------------------------

def test_short_cmdline_drops_the_program_directory():
    assert short_cmdline(["/usr/sbin/sshd", "-D"], "sshd") == "sshd -D"


def test_short_cmdline_keeps_relative_programs_and_rewritten_titles():
    assert short_cmdline(["bin/app", "--x"], "app") == "bin/app --x"
    # postgres rewrites its argv into one string with spaces: it is not a path
    assert short_cmdline(["postgres: checkpointer  "], "postgres") == "postgres: checkpointer"


def test_short_cmdline_kernel_threads_and_zombies_show_the_name_in_brackets():
    assert short_cmdline([], "kworker/0:1") == "[kworker/0:1]"
    assert short_cmdline(["", ""], "kthreadd") == "[kthreadd]"


def test_short_cmdline_truncates_with_an_ellipsis():
    out = short_cmdline(["/bin/sh", "-c", "x" * 500], "sh", limit=40)
    assert len(out) == 40 and out.endswith("…") and out.startswith("sh -c xxx")


def test_control_characters_are_shown_not_executed():
    assert printable("red\x1b[31m\nnext") == "red\\x1b[31m\\x0anext"
    assert short_cmdline(["/bin/echo", "a\x1b[2Jb"], "echo") == "echo a\\x1b[2Jb"


# -- masking ------------------------------------------------------------------------------------

@pytest.mark.parametrize("arg, expected", [
    ("--password=hunter2", "--password=***"),
    ("--db-pass=hunter2", "--db-pass=***"),
    ("token=abc123", "token=***"),
    ("PGPASSWORD=x", "PGPASSWORD=***"),
    ("--api-key=k-123", "--api-key=***"),
    ("client_secret=s3", "client_secret=***"),
    ("postgres://app:s3cret@db.example:5432/app", "postgres://app:***@db.example:5432/app"),
    ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
    ("https://example.com/cb?access_token=abc&page=2", "https://example.com/cb?access_token=***&page=2"),
    ("Authorization: Bearer eyJhbGciOi", "Authorization: Bearer ***"),
    ('{"DB_PASSWORD": "pw", "HOME": "/root"}', '{"DB_PASSWORD": "***", "HOME": "/root"}'),
    ("X-Api-Key: abc", "X-Api-Key: ***"),
    ("PRIVATE-TOKEN: glpat-x", "PRIVATE-TOKEN: ***"),
    ("Authorization: token ghp_x", "Authorization: token ***"),
    ("Authorization: hunter2", "Authorization: ***"),
    ("password: hunter2", "password: ***"),
])
def test_credentials_are_masked(arg, expected):
    assert mask_text(arg) == expected


@pytest.mark.parametrize("arg", [
    "--port=5432", "--bypass-cache=1", "tokenizer=bpe", "https://example.com:8443/path",
    "user@host", "--passthrough=yes", "secretsdir=/etc/x",
    "Content-Type: application/json", "Host: example.com", "/run/secrets:/run/secrets:ro",
])
def test_ordinary_arguments_are_not_masked(arg):
    assert mask_text(arg) == arg


@pytest.mark.parametrize("argv, expected", [
    (["curl", "-u", "admin:hunter2", "https://x"], ["curl", "-u", "admin:***", "https://x"]),
    (["curl", "--user=admin:hunter2"], ["curl", "--user=admin:***"]),
    (["/usr/bin/curl", "-H", "X-Api-Key: abc", "https://x"], ["/usr/bin/curl", "-H", "X-Api-Key: ***", "https://x"]),
    (["mysql", "-phunter2", "app"], ["mysql", "-p***", "app"]),
    (["/usr/bin/mysqldump", "-u", "root", "-phunter2"], ["/usr/bin/mysqldump", "-u", "root", "-p***"]),
    (["sshpass", "-p", "hunter2", "ssh", "host"], ["sshpass", "-p", MASK, "ssh", "host"]),
    (["sshpass", "-phunter2", "ssh", "host"], ["sshpass", "-p***", "ssh", "host"]),
    (["redis-cli", "-a", "hunter2", "ping"], ["redis-cli", "-a", MASK, "ping"]),
])
def test_password_flags_of_known_programs_are_masked(argv, expected):
    assert mask_argv(argv) == expected


@pytest.mark.parametrize("argv", [
    ["ssh", "-p", "2222", "host"],               # -p is a port for most programs
    ["python3", "-m", "http.server", "-p", "8080"],
    ["redis-cli", "-h", "cache", "-p", "6379"],  # redis-cli's port; its password is -a
    ["mysql", "-p", "app"],                      # a lone -p prompts: "app" is the database
    ["mysql", "-P", "3306", "app"],
    ["curl", "-u", "admin", "https://x"],        # no password given: curl prompts
    ["tar", "-a", "-cf", "x.tar.gz", "dir"],     # -a is not a password outside redis-cli
])
def test_short_flags_of_other_programs_are_not_masked(argv):
    assert mask_argv(argv) == argv


def test_a_flag_hides_its_next_argument_whatever_it_looks_like():
    assert mask_argv(["mysqldump", "--password", "hunter2", "-u", "root"]) == \
        ["mysqldump", "--password", MASK, "-u", "root"]
    # A password may start with "-": a flag's next argument is hidden even if it looks like a
    # flag (over-masking "--verbose" is better than showing "-S3cret"); the one after is not.
    assert mask_argv(["app", "--password", "-S3cret", "x"]) == ["app", "--password", MASK, "x"]
    assert mask_argv(["app", "--token", "--verbose", "x"]) == ["app", "--token", MASK, "x"]


# -- counts, sorting, filtering -----------------------------------------------------------------

ROWS = [
    row(10, "nginx", "www", "sleeping", cpu=5.0, rss=3000, threads=2, start=300.0,
        argv=["nginx: worker process"]),
    row(3, "postgres", "postgres", "running", cpu=40.0, rss=9000, threads=1, start=100.0,
        argv=["/usr/bin/postgres", "-D", "/var/lib/pgsql"]),
    row(7, "Backup", "root", "disk-sleep", cpu=None, rss=None, threads=4, start=200.0,
        argv=["/usr/bin/rsync", "-a", "/srv", "/mnt"]),
    row(12, "defunct", "www", "zombie", cpu=0.0, rss=0, threads=1, start=400.0, argv=[]),
]


def test_status_counts_most_common_first():
    rows = ROWS + [row(20, status="sleeping"), row(21, status=None)]
    assert status_counts(rows) == {"sleeping": 2, "running": 1, "disk-sleep": 1, "zombie": 1,
                                   "unknown": 1}


@pytest.mark.parametrize("key, order, pids", [
    ("cpu", "desc", [3, 10, 12, 7]),        # None (unreadable) last whatever the order
    ("cpu", "asc", [12, 10, 3, 7]),
    ("memory", "desc", [3, 10, 12, 7]),
    ("pid", "asc", [3, 7, 10, 12]),
    ("pid", "desc", [12, 10, 7, 3]),
    ("name", "asc", [7, 12, 10, 3]),        # case-insensitive: Backup, defunct, nginx, postgres
    ("user", "asc", [3, 7, 10, 12]),        # postgres, root, www (10), www (12): ties by pid
    ("threads", "desc", [7, 10, 12, 3]),    # 4, 2, then the 1s by pid descending
    ("start", "desc", [12, 10, 7, 3]),
])
def test_sort_rows(key, order, pids):
    assert [r.pid for r in sort_rows(ROWS, key, order)] == pids


def test_filter_matches_name_user_and_command_line_all_words():
    assert [r.pid for r in filter_rows(ROWS, "POSTGRES")] == [3]         # name and user
    assert [r.pid for r in filter_rows(ROWS, "pgsql")] == [3]            # command line
    assert [r.pid for r in filter_rows(ROWS, "www")] == [10, 12]         # user
    assert [r.pid for r in filter_rows(ROWS, "rsync /mnt")] == [7]       # every word must occur
    assert filter_rows(ROWS, "rsync nginx") == []
    assert [r.pid for r in filter_rows(ROWS, status="zombie")] == [12]
    assert [r.pid for r in filter_rows(ROWS, "www", status="sleeping")] == [10]


def test_filter_sees_only_the_masked_command_line():
    r = row(5, "psql", argv=mask_argv(["psql", "--password=hunter2"]))
    assert filter_rows([r], "hunter2") == []  # a secret cannot be probed through the filter
    assert filter_rows([r], "password") == [r]


def test_summary_top_lists_skip_unknown_values():
    s = summarize(ROWS, top_n=2)
    assert s.total == 4 and s.threads == 8
    assert [r.pid for r in s.top_cpu] == [3, 10]
    assert [r.pid for r in s.top_memory] == [3, 10]
    # the full list is kept for the table but stays out of the snapshot's JSON
    assert len(s.rows) == 4 and "rows" not in s.model_dump()


@pytest.mark.parametrize("seed", range(20))
def test_summary_top_lists_are_the_sorted_tables_head(seed):
    """The top lists pick without sorting the table: the same rows, in the same order (ties by
    pid), as the head of the table sorted by CPU or by memory."""
    import random
    rng = random.Random(seed)
    rows = [row(pid, cpu=rng.choice([None, 0.0, 0.0, 1.5, 3.0, rng.uniform(0, 100)]),
                rss=rng.choice([None, 4096, 4096, rng.randint(1, 10**9)]))
            for pid in rng.sample(range(1, 10**6), rng.randint(0, 80))]
    n = rng.randint(1, 8)
    s = summarize(rows, top_n=n)
    assert s.top_cpu == [r for r in sort_rows(rows, "cpu", "desc") if r.cpu_percent is not None][:n]
    assert s.top_memory == [r for r in sort_rows(rows, "memory", "desc") if r.rss is not None][:n]


# -- cgroups and systemd units ------------------------------------------------------------------

V2 = "0::/system.slice/postgresql.service\n"
V1 = """12:pids:/system.slice/sshd.service
11:cpu,cpuacct:/system.slice/sshd.service
1:name=systemd:/system.slice/sshd.service
"""
HYBRID = ("1:name=systemd:/user.slice/user-1000.slice/session-4.scope\n"
          "0::/user.slice/user-1000.slice/session-4.scope\n")


def test_parse_cgroup_v2_and_v1():
    assert [(c.hierarchy, c.controllers, c.path) for c in parse_cgroup(V2)] == \
        [("0", "", "/system.slice/postgresql.service")]
    v1 = parse_cgroup(V1)
    assert len(v1) == 3 and v1[1].controllers == "cpu,cpuacct"
    assert systemd_path(v1) == "/system.slice/sshd.service"


def test_unit_of_service_scope_user_service_and_container_root():
    assert unit_of(systemd_path(parse_cgroup(V2))) == ("postgresql.service", "system.slice")
    assert unit_of(systemd_path(parse_cgroup(HYBRID))) == ("session-4.scope", "user-1000.slice")
    assert unit_of("/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service") == \
        ("dbus.service", "app.slice")
    assert unit_of("/") == (None, None)
    assert unit_of(systemd_path(parse_cgroup("garbage\n"))) == (None, None)


# -- the table's URL state ----------------------------------------------------------------------

def test_state_url_leaves_defaults_out_and_keeps_everything_else():
    assert TableState().url() == "/processes"
    s = TableState(sort="memory", order="asc", q="pg sql", status="zombie", open=(5, 9), limit=200)
    assert s.url() == "/processes?sort=memory&order=asc&q=pg+sql&status=zombie&open=5%2C9&limit=200"


def test_toggle_opens_then_closes_and_keeps_at_most_twenty():
    s = TableState().toggled(5).toggled(9)
    assert s.open == (5, 9)
    assert s.toggled(5).open == (9,)
    many = TableState(open=tuple(range(1, 21))).toggled(99)
    assert len(many.open) == 20 and many.open[-1] == 99 and 1 not in many.open


def test_parse_open_is_lenient_and_bounded():
    assert parse_open("5,9,,5, 7,x,0,99999999") == (5, 9, 7)


def test_history_push_for_sort_and_toggle_replace_for_filter_nothing_for_poll():
    base = "http://127.0.0.1:1/processes?q=py"
    assert history_headers(base, TableState(q="py")) == {}
    assert history_headers(base, TableState(q="pyt")) == {"HX-Replace-Url": "/processes?q=pyt"}
    assert history_headers(base, TableState(q="py", open=(4,))) == {"HX-Push-Url": "/processes?q=py&open=4"}
    assert history_headers(base, TableState(q="py", sort="pid", order="asc")) == \
        {"HX-Push-Url": "/processes?sort=pid&order=asc&q=py"}


# -- the collector against the real host, with faults injected ---------------------------------

def test_collector_reads_this_process_and_measures_cpu_from_the_second_tick():
    c = ProcessesCollector(interval=2.0)
    first = {r.pid: r for r in c.collect(0.0).rows}
    me = first[os.getpid()]
    assert me.cpu_percent is None  # the first reading of a Process is not a measurement
    assert me.username and me.rss and me.rss > 0 and me.create_time > 0
    # Burn CPU until the kernel has charged this process at least 0.05 s (bounded: 5 s at most),
    # so the second reading has something to measure however fast or loaded the machine is.
    proc, deadline = psutil.Process(), time.monotonic() + 5.0
    start = sum(proc.cpu_times()[:2])
    while sum(proc.cpu_times()[:2]) - start < 0.05 and time.monotonic() < deadline:
        sum(i * i for i in range(20_000))
    second = {r.pid: r for r in c.collect(1.0).rows}
    assert second[os.getpid()].cpu_percent is not None and second[os.getpid()].cpu_percent > 0
    assert second[os.getpid()].create_time == me.create_time


def test_a_reused_pid_is_read_as_a_new_process():
    """Between two ticks the PID was given to another process: the baseline kept for it (start
    time, CPU ticks) is the old process's, and measuring against it would give garbage."""
    c = ProcessesCollector()
    me = os.getpid()
    c.collect(0.0)
    start, ticks, at = c._seen[me]
    c._seen[me] = (start - 1, ticks + 10_000_000, at)  # fault: whoever had this PID before
    row = {r.pid: r for r in c.collect(1.0).rows}[me]
    assert row.create_time == psutil.Process(me).create_time()
    assert row.cpu_percent is None  # a first reading of the new process, not a measurement
    assert c._seen[me][0] == start  # measured from the new process's baseline from now on
    assert {r.pid: r for r in c.collect(2.0).rows}[me].cpu_percent is not None


def test_collector_masks_unless_turned_off():
    argv = ["/usr/bin/tool", "--password=hunter2"]
    masked = ProcessesCollector(mask_secrets=True)._command(1, argv, "tool")
    plain = ProcessesCollector(mask_secrets=False)._command(1, argv, "tool")
    assert masked == (["/usr/bin/tool", "--password=***"], "tool --password=***")
    assert plain == (argv, "tool --password=hunter2")


def test_collector_survives_processes_vanishing_and_denying_mid_scan(monkeypatch):
    before = ProcessesCollector().collect(0.0)
    c = ProcessesCollector()  # reads every file of every process (none known yet)
    c._reader.hold = 0  # by path, where _read injects; the kept-open files: test_proc_reader.py
    me, parent = os.getpid(), os.getppid()
    real_read = proc_stat._read

    def read(path):  # fault injection at the file: the host's answers for two processes
        if path == f"/proc/{parent}/stat":
            raise FileNotFoundError(path)  # exits between the listing and the read
        if path == f"/proc/{me}/cmdline":
            raise PermissionError(path)
        return real_read(path)

    monkeypatch.setattr(proc_stat, "_read", read)
    after = {r.pid: r for r in c.collect(1.0).rows}
    assert parent not in after  # skipped, not fatal
    assert after[me].cmdline == [] and after[me].command == f"[{after[me].name}]"
    assert after[me].rss and after[me].username  # what could be read is still shown
    assert len(after) >= before.total - 5  # everyone else is still there


def test_a_process_whose_files_may_not_be_read_is_listed_by_pid(monkeypatch):
    """hidepid: the pid is listed but its files are not readable."""
    c = ProcessesCollector()
    c._reader.hold = 0  # by path, where _read injects (under hidepid opening fails the same way)
    me = os.getpid()
    real_read = proc_stat._read

    def read(path):
        if path.startswith(f"/proc/{me}/"):
            raise PermissionError(path)
        return real_read(path)

    monkeypatch.setattr(proc_stat, "_read", read)
    row = {r.pid: r for r in c.collect(0.0).rows}[me]
    assert (row.name, row.username, row.rss, row.cpu_percent) == (str(me), None, None, None)


def test_the_table_reads_what_psutil_reads(tmp_path):
    """The /proc reader means what psutil means, field for field, for a process whose comm is
    cut at 15 bytes (its name comes from argv[0], as psutil's does) and whose argument has a space."""
    prog = tmp_path / "a-very-long-program-name"
    prog.symlink_to(os.path.realpath(sys.executable))
    child = subprocess.Popen([str(prog), "-c", "import time; print(flush=True); time.sleep(30)",
                              "x y"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    try:
        child.stdout.readline()  # started and asleep: its memory no longer changes
        row = {r.pid: r for r in ProcessesCollector().collect(0.0).rows}.get(child.pid)
        p = psutil.Process(child.pid)
        want = p.as_dict(["ppid", "name", "username", "status", "num_threads", "nice",
                          "create_time", "cmdline"])
        assert row is not None and row.name == "a-very-long-program-name"
        assert {k: getattr(row, k) for k in want} == want
        assert row.rss == p.memory_info().rss
    finally:
        child.kill()
        child.wait()
