"""Logs, reading side: line shaping, tail from the end, filters, journal parsing, sources.

Files are written by the tests into a temporary directory; the journal is parsed from literal
``journalctl --output=json`` lines, and the real journalctl is run where it is installed.
"""
from __future__ import annotations

import asyncio
import builtins
import json
import os
import shutil
import subprocess
import time

import pytest

from monitor.logs import journal, sources
from monitor.logs.filters import FilterError, LogFilter, RegexTimeout, parse_time
from monitor.logs.lines import LogLine, guess_level, inert, parse_file_line
from monitor.logs.reader import SourceUnavailable, read_file, read_lines
from monitor.logs.sources import LogSource, host_defaults, status
from monitor.logs.tail import reverse_lines, tail
from tests.journal_files import BOOT_ID, write_journal

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def write(path, lines, end="\n"):
    path.write_bytes("".join(line + end for line in lines).encode())
    return str(path)


# -- lines ---------------------------------------------------------------------------------------
def test_inert_strips_ansi_and_shows_controls():
    raw = "\x1b[31mred\x1b[0m \x1b]0;title\x07bell\x07 nul\x00 esc\x1bc back\x08 tab\tok"
    out = inert(raw)
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out and "\x08" not in out
    assert out.startswith("red bell")
    assert "\\x07" in out and "\\x00" in out and "\\x08" in out  # visible escapes (monitor/text.py)
    assert "\tok" in out  # tab is kept


def test_guess_level_takes_most_severe_word():
    assert guess_level("sshd: error: could not load host key") == 3
    assert guess_level("warning: low disk; info follows") == 4
    assert guess_level("kernel: PANIC at the disco") == 0
    assert guess_level("Accepted publickey for ops") is None
    assert guess_level("<script>alert(1)</script>") is None  # "alert" is not read as a level
    assert guess_level("information about errors") is None  # whole words only


def test_parse_traditional_and_rfc3339_syslog():
    old = parse_file_line("Nov 26 11:32:01 web1 sshd[812]: Failed password for root", "auth", year=2025)
    assert old.identifier == "sshd" and old.pid == 812 and old.level == 3
    assert time.localtime(old.time)[:6] == (2025, 11, 26, 11, 32, 1)
    iso = parse_file_line("2025-11-26T11:32:01.500000+00:00 web1 CRON[9]: (root) CMD (x)", "syslog")
    assert iso.time == pytest.approx(1764156721.5) and iso.identifier == "CRON" and iso.pid == 9
    plain = parse_file_line("no timestamp here", "x")
    assert plain.time is None and plain.identifier is None and plain.message == "no timestamp here"


# -- tail ----------------------------------------------------------------------------------------
def test_tail_last_lines_and_partial_last_line(tmp_path):
    p = write(tmp_path / "a.log", [f"line {i}" for i in range(1000)])
    assert tail(p, 3) == [b"line 997", b"line 998", b"line 999"]
    assert tail(p, 5000) == [f"line {i}".encode() for i in range(1000)]
    with open(p, "ab") as f:
        f.write(b"being writ")  # no newline yet: not a line
    assert tail(p, 1) == [b"line 999"]
    # Small blocks exercise lines that straddle block edges.
    assert list(reverse_lines(p, block=7))[:2] == [b"line 999", b"line 998"]


def test_tail_of_one_gigabyte_sparse_file(tmp_path):
    """1 GiB: a sparse hole then 300 real lines; the last 200 come back exactly."""
    p = tmp_path / "big.log"
    lines = [f"2025-11-26T11:00:{i % 60:02d}+00:00 web1 app[1]: request {i} done" for i in range(300)]
    with open(p, "wb") as f:
        f.truncate(1 << 30)
        f.seek(1 << 30)
        f.write(("\n" + "\n".join(lines) + "\n").encode())
    assert os.path.getsize(p) > 1 << 30
    got = tail(str(p), 200)
    assert got == [line.encode() for line in lines[-200:]]
    shaped = read_file(str(p), "big", 200, LogFilter())
    assert [s.message for s in shaped] == lines[-200:]


def test_tail_reads_a_bounded_amount_of_a_huge_file(tmp_path, monkeypatch):
    """A filter that matches nothing stops after MAX_SCAN bytes instead of reading 1 GiB."""
    from monitor.logs import reader
    p = tmp_path / "big.log"
    with open(p, "wb") as f:
        f.truncate(1 << 30)
        f.seek(1 << 30)
        f.write(b"\nonly line\n")
    monkeypatch.setattr(reader, "MAX_SCAN", 4 * 1024 * 1024)
    read_bytes = 0
    real_open = builtins.open

    class Counting:
        def __init__(self, f):
            self.f = f

        def __getattr__(self, name):
            return getattr(self.f, name)

        def read(self, n=-1):
            nonlocal read_bytes
            data = self.f.read(n)
            read_bytes += len(data)
            return data

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

    monkeypatch.setattr(builtins, "open", lambda *a, **k: Counting(real_open(*a, **k)))
    found = read_file(str(p), "big", 10, LogFilter.parse(q="no such text"))
    assert found == [] and read_bytes <= 5 * 1024 * 1024
    assert found.incomplete == "searched the newest 4 MiB of the file only; older lines were not searched"


def test_a_search_of_a_whole_small_file_is_complete(tmp_path):
    p = tmp_path / "small.log"
    p.write_text("Nov 26 10:00:00 host app[1]: hello\n")
    found = read_file(str(p), "small", 10, LogFilter.parse(q="no such text"))
    assert found == [] and found.incomplete is None


def test_api_says_when_a_search_was_cut_short(make_client, tmp_path, monkeypatch):
    from monitor.logs import reader
    monkeypatch.setattr(reader, "MAX_SCAN", 1024)
    p = tmp_path / "app.log"
    p.write_text("".join(f"Nov 26 10:00:{i % 60:02d} host app[1]: line {i}\n" for i in range(500)))
    c = make_client(tick=60, log_sources=[{"name": "app", "kind": "file", "path": str(p)}])
    body = c.get("/api/logs", params={"source": "app", "q": "no such text"}).json()
    assert body["count"] == 0
    assert body["incomplete"] == "searched the newest 1 KiB of the file only; older lines were not searched"
    assert "older lines were not searched" in c.get("/logs", params={"source": "app", "q": "zzz"}).text



@pytest.mark.parametrize("filters", [{"q": "no such text"}, {"level": "err"}])
def test_scan_deadline_holds_for_lines_the_cheap_filters_skip(tmp_path, monkeypatch, filters):
    """Lines failing the text or level filter still count toward SCAN_SECONDS."""
    from monitor.logs import reader
    p = write(tmp_path / "big.log", [f"plain line {i}" for i in range(20_000)])
    monkeypatch.setattr(reader, "SCAN_SECONDS", -1.0)  # the deadline has passed from the start
    pulled = 0
    real_reverse_lines = reader.reverse_lines

    def counting(*a, **k):
        nonlocal pulled
        for line in real_reverse_lines(*a, **k):
            pulled += 1
            yield line
    monkeypatch.setattr(reader, "reverse_lines", counting)
    assert read_file(p, "big", 10, LogFilter.parse(**filters)) == []
    assert pulled <= 1000  # looked at the clock within the first thousand lines, not 20,000


# -- filters -------------------------------------------------------------------------------------
SAMPLE = [
    "2025-11-26T10:00:00+00:00 web1 sshd[1]: Accepted publickey for ops",
    "2025-11-26T10:05:00+00:00 web1 sshd[2]: error: kex_exchange_identification",
    "2025-11-26T10:10:00+00:00 web1 kernel: warning: CPU3 temperature above threshold",
    "2025-11-26T10:15:00+00:00 web1 CRON[3]: (root) CMD (run-parts /etc/cron.hourly)",
    "2025-11-26T10:20:00+00:00 web1 sshd[4]: fatal: Read from socket failed",
]


@pytest.fixture
def sample(tmp_path):
    return write(tmp_path / "auth.log", SAMPLE)


def msgs(lines):
    return [line.message.split(": ", 1)[1] for line in lines]


def test_text_filter_any_case(sample):
    got = read_file(sample, "auth", 10, LogFilter.parse(q="SSHD"))
    assert [line.pid for line in got] == [1, 2, 4]


def test_regex_filter_smart_case(sample):
    assert [x.pid for x in read_file(sample, "auth", 10, LogFilter.parse(regex=r"sshd\[\d\]: (error|fatal)"))] == [2, 4]
    assert read_file(sample, "auth", 10, LogFilter.parse(regex="ACCEPTED")) == []  # capital: case-sensitive
    assert len(read_file(sample, "auth", 10, LogFilter.parse(regex="accepted"))) == 1


def test_level_filter_err_and_above(sample):
    got = read_file(sample, "auth", 10, LogFilter.parse(level="err"))
    assert [line.level for line in got] == [3, 2]  # error, fatal (crit)
    warn = read_file(sample, "auth", 10, LogFilter.parse(level="warning"))
    assert len(warn) == 3


def test_time_range(sample):
    t = lambda hm: f"2025-11-26T{hm}:00+00:00"  # noqa: E731
    got = read_file(sample, "auth", 10, LogFilter.parse(since=t("10:04"), until=t("10:16")))
    assert [line.time for line in got] == [1764151500.0, 1764151800.0, 1764152100.0]


def test_last_n_matches_not_last_n_lines(sample):
    got = read_file(sample, "auth", 1, LogFilter.parse(q="sshd"))
    assert [line.pid for line in got] == [4]
    got = read_file(sample, "auth", 2, LogFilter.parse(q="sshd"))
    assert [line.pid for line in got] == [2, 4]


def test_relative_and_malformed_times():
    now = 1_764_000_000.0
    assert parse_time("15m", "since", now) == now - 900
    assert parse_time("2h", "since", now) == now - 7200
    assert parse_time("now", "until", now) == now
    assert parse_time("1764000000", "since", now) == 1764000000.0
    for bad in ("yesterday", "15 parsecs", "2025-13-01", "-5m", "../../etc/passwd"):
        with pytest.raises(FilterError, match="since: .* is not a time"):
            parse_time(bad, "since", now)
    with pytest.raises(FilterError, match="since is after until"):
        LogFilter.parse(since="1h", until="2h")


@pytest.mark.parametrize("kwargs, message", [
    ({"regex": "("}, "regex: invalid pattern"),
    ({"regex": "a" * 201}, "regex: at most 200"),
    ({"q": "x" * 201}, "q: at most 200"),
    ({"level": "loud"}, "level: 'loud' is not a level"),
    ({"unit": "--output=cat"}, "is not a systemd unit name"),
    ({"unit": "../../etc/shadow"}, "is not a systemd unit name"),
    ({"unit": "ssh*"}, "is not a systemd unit name"),
    ({"unit": "a b.service"}, "is not a systemd unit name"),
])
def test_bad_filters_say_what_is_wrong(kwargs, message):
    with pytest.raises(FilterError, match=message):
        LogFilter.parse(**kwargs)


def test_units_accepted():
    for unit in ("sshd.service", "sshd", "getty@tty1.service", r"systemd-fsck@dev-disk-by\x2duuid-1.service",
                 "user-1000.slice"):
        assert LogFilter.parse(unit=unit).unit == unit


def test_catastrophic_regex_is_stopped_by_the_deadline():
    filt = LogFilter.parse(regex="(a|aa)+$")
    line = LogLine(source="x", message="a" * 5000 + "!")
    started = time.monotonic()
    with pytest.raises(RegexTimeout, match="took longer"):
        filt.matcher(budget=0.2)(line)
    assert time.monotonic() - started < 5  # bounded (a generous bound: this is no benchmark)


def test_pathological_patterns_do_not_hold_the_event_loop(tmp_path):
    """The request path, as the routes run it: parse (the compile check) and read in worker
    threads, while a ticker on the loop measures how late it wakes. Compiling (?:x{1000}){1000}
    in the console held the loop 385 ms (and took 270 MiB); a search that keeps the GIL
    (concurrent=False) holds it 0.8-0.9 s, which is why filters.py asks for concurrent=True."""
    path = write(tmp_path / "a.log", [f"2025-11-26T10:00:00+00:00 host1 app: {'a' * 3000}!"] * 50)
    outcomes: list[str] = []

    async def main() -> float:
        worst = 0.0

        async def ticker() -> None:
            nonlocal worst
            while True:
                t = time.monotonic()
                await asyncio.sleep(0.01)
                worst = max(worst, time.monotonic() - t - 0.01)
        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        for pattern in ("(a+)+b", "(a|aa)+$", "(?:x{1000}){1000}", "(?:(?:a{100}){100}){100}"):
            try:
                filt = await asyncio.to_thread(LogFilter.parse, regex=pattern)
                await asyncio.to_thread(read_file, path, "app", 10, filt)
                outcomes.append("read")
            except FilterError as e:
                outcomes.append(str(e))
        tick.cancel()
        return worst

    worst = asyncio.run(main())
    assert [o.split(";")[0] for o in outcomes] == [
        "regex: matching took longer than 0.5 s", "regex: matching took longer than 0.5 s",
        "regex: too complex: compiling it needs more than 32 MiB (nested repeats multiply)",
        "regex: too complex: compiling it needs more than 32 MiB (nested repeats multiply)"]
    assert worst < 0.1, f"the event loop was held {worst * 1000:.0f} ms"


@pytest.mark.parametrize("value, says", [
    ("999999w", "is before 1970"),  # journalctl: "Failed to parse timestamp: @-604..."
    ("0001-01-01", "is before 1970"),  # no epoch for it in local time: no OverflowError either
    ("1969-12-31T23:59:59+00:00", "is before 1970"),
    ("9999-12-31", "more than a year in the future"),
    ("99999999999", "more than a year in the future"),
    ("1764000000.1234567890123", "is not a time"),
])
def test_times_out_of_range_say_why(value, says):
    with pytest.raises(FilterError, match=f"since: .* {says}"):
        parse_time(value, "since", 1_764_000_000.0)


def test_times_at_the_edges_of_the_range():
    now = 1_764_000_000.0
    assert parse_time("1970-01-01T00:00:00+00:00", "until", now) == 0.0
    assert parse_time("2000w", "since", now) == now - 2000 * 604800  # 38 years ago: after 1970
    assert parse_time(str(int(now) + 300 * 86400), "until", now) == now + 300 * 86400


# -- journal -------------------------------------------------------------------------------------
def real_journalctl() -> str:
    """The real journalctl: scripts/test installs systemd's, so under CI its absence fails."""
    exe = shutil.which("journalctl")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("journalctl not found: scripts/test must install Debian's systemd package")
        pytest.skip("journalctl not installed (apt-get install -y systemd)")
    return exe


def test_journalctl_refusing_a_value_is_the_requests_fault_not_an_unavailable_source(tmp_path, monkeypatch):
    """A backstop behind the range checks: "Failed to parse" from journalctl is a FilterError (a
    422), not SourceUnavailable (a 503). Fault injection: a stand-in journalctl that refuses."""
    fake = tmp_path / "journalctl"
    fake.write_text("#!/bin/sh\necho 'Failed to parse timestamp: @-5.000000' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    src = LogSource(name="journal", kind="journal")
    with pytest.raises(journal.JournalQueryError, match="journalctl refused the query: Failed to parse timestamp"):
        read_lines(src, 10, LogFilter(since=-5.0))
    assert issubclass(journal.JournalQueryError, FilterError)


def test_the_real_journalctl_refusing_a_value_is_the_requests_fault(tmp_path):
    """The same backstop against the real journalctl (a filter built without parse(), so the
    negative time reaches it), on an empty journal directory of the test's own."""
    real_journalctl()
    src = LogSource(name="journal", kind="journal", path=str(tmp_path))
    with pytest.raises(journal.JournalQueryError, match="journalctl refused the query"):
        read_lines(src, 10, LogFilter(since=-5.0))


JOURNAL_LINES = [
    # A plain entry, as `journalctl --output=json --output-fields=...` prints it.
    '{"__CURSOR":"s=1;i=1","__REALTIME_TIMESTAMP":"1764156721000000","__MONOTONIC_TIMESTAMP":"1",'
    '"_BOOT_ID":"b","PRIORITY":"6","_SYSTEMD_UNIT":"sshd.service","SYSLOG_IDENTIFIER":"sshd",'
    '"_PID":"812","MESSAGE":"Accepted publickey for ops from 10.0.0.5"}',
    # MESSAGE not valid UTF-8 / with control bytes: an array of byte values ("\x1b[31mbad \xff<b>").
    '{"__REALTIME_TIMESTAMP":"1764156722000000","PRIORITY":"3","SYSLOG_IDENTIFIER":"app",'
    '"MESSAGE":[27,91,51,49,109,98,97,100,32,255,60,98,62]}',
    # A field set twice: an array of values; PRIORITY missing; MESSAGE too large: null.
    '{"__REALTIME_TIMESTAMP":"1764156723000000","SYSLOG_IDENTIFIER":["first","second"],"MESSAGE":null}',
    # Unit from the UNIT field (systemd's own messages about a unit).
    '{"__REALTIME_TIMESTAMP":"1764156724000000","PRIORITY":"4","UNIT":"cron.service",'
    '"_COMM":"systemd","MESSAGE":"cron.service: Main process exited, code=exited"}',
]


def test_parse_journal_entries():
    e = [journal.parse_entry(line, "journal") for line in JOURNAL_LINES]
    assert e[0] == LogLine(time=1764156721.0, level=6, source="journal", unit="sshd.service",
                           identifier="sshd", pid=812, message="Accepted publickey for ops from 10.0.0.5")
    assert e[1].message == "bad \ufffd<b>" and e[1].level == 3  # ANSI gone, bad byte replaced
    assert e[2].identifier == "first" and e[2].level is None and e[2].message == "[message not stored as text]"
    assert e[3].unit == "cron.service" and e[3].identifier == "systemd" and e[3].level == 4
    assert journal.parse_entry("not json", "journal") is None
    assert journal.parse_entry("[1,2]", "journal") is None


def test_journal_args_are_a_list_from_validated_values():
    filt = LogFilter.parse(level="err", unit="sshd.service", since="1764156721", until="1764156800")
    args = journal.build_args("/usr/bin/journalctl", "/var/log/journal", filt, 50)
    assert args[0] == "/usr/bin/journalctl"
    assert "--output=json" in args and "--lines=50" in args and "--priority=3" in args
    assert "--unit=sshd.service" in args and "--directory=/var/log/journal" in args
    assert "--since=@1764156721.000000" in args and "--until=@1764156800.000000" in args
    follow = journal.build_args("/usr/bin/journalctl", None, LogFilter(), None, follow=True)
    assert "--follow" in follow and "--lines=0" in follow
    assert not any(a.startswith("--directory") for a in follow)


def test_real_journalctl_on_a_journal_of_the_tests_own(tmp_path):
    """The real command on a real journal file the test wrote (tests/journal_files.py): the
    entries come back in order, filtered by journalctl itself, hostile bytes made inert, and the
    same as journalctl prints them."""
    exe = real_journalctl()
    write_journal(tmp_path / "j", [
        {"MESSAGE": "sshd started", "PRIORITY": "6", "_SYSTEMD_UNIT": "sshd.service", "SYSLOG_IDENTIFIER": "sshd"},
        {"MESSAGE": b"\x1b[31mdisk \xff failed", "PRIORITY": "3", "SYSLOG_IDENTIFIER": "app"},
        {"MESSAGE": "cron ran", "PRIORITY": "6", "_SYSTEMD_UNIT": "cron.service", "SYSLOG_IDENTIFIER": "cron"},
    ])
    src = LogSource(name="journal", kind="journal", path=str(tmp_path / "j"))
    assert status(src).available
    got = read_lines(src, 10, LogFilter.parse(level="debug"))
    assert [x.message for x in got] == ["sshd started", "disk \ufffd failed", "cron ran"]
    assert got[0].unit == "sshd.service" and got[1].level == 3 and got[0].time == 1764156721.0
    assert [x.message for x in read_lines(src, 10, LogFilter.parse(level="err"))] == ["disk \ufffd failed"]
    assert [x.message for x in read_lines(src, 10, LogFilter.parse(unit="cron.service"))] == ["cron ran"]
    raw = subprocess.run([exe, f"--directory={tmp_path / 'j'}", "--output=json", "--no-pager", "--quiet"],
                         capture_output=True, timeout=10, check=False).stdout.splitlines()
    assert [x.time for x in got] == [int(json.loads(r)["__REALTIME_TIMESTAMP"]) / 1e6 for r in raw]


def test_a_journal_with_no_files_says_why(tmp_path):
    """journalctl prints "No journal files were found" and an empty list: the source says so
    instead of "0 lines · No lines match yet" (issue 18)."""
    real_journalctl()
    (tmp_path / "empty" / BOOT_ID).mkdir(parents=True)
    src = LogSource(name="journal", kind="journal", path=str(tmp_path / "empty"))
    st = status(src)
    assert not st.available and st.reason.startswith("no journal files were found in " + str(tmp_path / "empty"))
    write_journal(tmp_path / "empty" / BOOT_ID, [{"MESSAGE": "now there is one"}])
    assert status(src).available


def test_missing_journalctl_is_unavailable(monkeypatch):
    """Fault injection: PATH without journalctl (runs on every host, with or without systemd)."""
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    src = LogSource(name="journal", kind="journal")
    st = status(src)
    assert st.available is False and st.reason.startswith("journalctl not found")
    with pytest.raises(SourceUnavailable, match="journalctl not found"):
        read_lines(src, 10, LogFilter())


# -- sources -------------------------------------------------------------------------------------
def test_host_defaults_by_os_release():
    assert [(s.name, s.path) for s in host_defaults("rocky")] == [
        ("messages", "/var/log/messages"), ("secure", "/var/log/secure"), ("cron", "/var/log/cron"),
        ("journal", None)]
    assert [s.name for s in host_defaults("almalinux", "rhel centos fedora")][:3] == ["messages", "secure", "cron"]
    assert [(s.name, s.path) for s in host_defaults("debian")] == [
        ("syslog", "/var/log/syslog"), ("auth", "/var/log/auth.log"), ("journal", None)]
    assert [s.name for s in host_defaults("ubuntu", "debian")] == ["syslog", "auth", "journal"]


def test_read_os_release(tmp_path):
    p = tmp_path / "os-release"
    p.write_text('NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n')
    assert sources.read_os_release(p) == ("rocky", "rhel centos fedora")
    assert sources.read_os_release(tmp_path / "missing") == ("", "")


def test_source_status_reasons(tmp_path, monkeypatch):
    ok = write(tmp_path / "ok.log", ["x"])
    assert status(LogSource(name="ok", path=ok)).available
    missing = status(LogSource(name="m", path=str(tmp_path / "none.log")))
    assert not missing.available and missing.reason.startswith("not found")
    assert "no file matches" in status(LogSource(name="g", path=str(tmp_path / "*.nope"))).reason
    assert "directory" in status(LogSource(name="d", path=str(tmp_path))).reason
    # Fault injection: tests run as root, who can read a mode-0600 file; make open() refuse.
    secret = write(tmp_path / "secure", ["x"])
    real_open = builtins.open

    def refusing(path, *a, **k):
        if str(path) == secret:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *a, **k)
    monkeypatch.setattr(builtins, "open", refusing)
    st = status(LogSource(name="secure", path=secret))
    assert not st.available and st.reason == "permission denied: run as root or grant read access"
    with pytest.raises(SourceUnavailable, match="permission denied"):
        read_lines(LogSource(name="secure", path=secret), 10, LogFilter())


def test_glob_source_reads_newest_match(tmp_path):
    old = write(tmp_path / "app-1.log", ["old"])
    new = write(tmp_path / "app-2.log", ["new"])
    os.utime(old, (1, 1))
    src = LogSource(name="app", path=str(tmp_path / "app-*.log"))
    assert sources.resolve(src) == new
    assert [x.message for x in read_lines(src, 5, LogFilter())] == ["new"]


def test_config_rejects_path_names_and_duplicates():
    from pydantic import ValidationError
    for bad in ("../../etc/shadow", "/etc/passwd", "%2e%2e%2f", "a/b", ".hidden", ""):
        with pytest.raises(ValidationError):
            LogSource(name=bad, path="/tmp/x")
    with pytest.raises(ValidationError, match="needs a path"):
        LogSource(name="f", kind="file")
    with pytest.raises(ValueError, match="configured twice"):
        sources.configured([LogSource(name="a", path="/x"), LogSource(name="a", path="/y")])


def test_settings_from_toml_and_env(tmp_path, monkeypatch):
    from monitor.settings import Settings
    toml = tmp_path / "config.toml"
    toml.write_text('[[log_sources]]\nname = "app"\nkind = "file"\npath = "/var/log/app/*.log"\n'
                    '[[log_sources]]\nname = "journal"\nkind = "journal"\n')
    monkeypatch.setenv("SERVER_MONITOR_CONFIG", str(toml))
    assert [(s.name, s.kind) for s in Settings().log_sources] == [("app", "file"), ("journal", "journal")]
    monkeypatch.setenv("SERVER_MONITOR_LOG_SOURCES", json.dumps([{"name": "x", "path": "/tmp/x.log"}]))
    assert [s.name for s in Settings().log_sources] == ["x"]  # the environment wins over the file
