"""The logs area (monitor/collectors/logs.py): error lines per minute, end to end.

Unit tests call the shaping functions on literal lines and drive ``LogsCollector.collect(now)``
with chosen ``now`` values against files the tests write (rotation by rename and by truncation, a
1 GB sparse file). The API tests configure a temporary file as a source through Settings, append
lines to it and watch /api/snapshot, /dashboard, /api/health and /metrics follow.
"""
from __future__ import annotations

import builtins
import contextlib
import json
import os
import shutil
import tempfile
import time

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.collectors import default_collectors
from monitor.collectors.logs import MESSAGE_LIMIT, LogsCollector, shape
from monitor.logs.error_readers import JournalErrors
from monitor.logs.errors import Tally, Window, error_lines, journal_errors
from monitor.logs.sources import LogSource, SourceStatus
from monitor.settings import Settings
from tests.conftest import IN_CI
from tests.journal_files import write_journal

OLD = "2025-11-26T10:00:00+00:00 web1 app[7]: error: an old failure, before the console started\n"
ERR = "2025-11-26T10:05:00+00:00 web1 app[7]: error: connection refused ({i})\n"
INFO = "2025-11-26T10:05:00+00:00 web1 app[7]: info: request served ({i})\n"


def append(path, text: str) -> None:
    with open(path, "a") as f:
        f.write(text)


def counts(data) -> dict[str, int]:
    return {s.name: s.errors for s in data.sources}


# -- shaping on literal input ---------------------------------------------------------------------
def test_error_lines_count_err_and_worse_only():
    raw = [
        b"Nov 26 11:32:01 web1 sshd[812]: error: kex_exchange_identification",  # err
        b"Nov 26 11:32:02 web1 kernel: CRITICAL temperature reached",  # crit
        b"Nov 26 11:32:03 web1 app: FATAL: cannot open database",  # fatal -> crit
        b"Nov 26 11:32:04 web1 sshd[9]: Failed password for root from 10.0.0.1",  # failed -> err
        b"Nov 26 11:32:05 web1 kernel: emergency: kernel panic",  # emerg
        b"Nov 26 11:32:06 web1 app: warning: disk almost full",  # warning: not counted
        b"Nov 26 11:32:07 web1 app: info: redirected stderr to a file",  # 'stderr' is not 'err'
        b"Nov 26 11:32:08 web1 kernel: interrupt storm detected",  # 'interrupt' contains 'err'
        b"",
        b"no level word at all",
        b"\x1b[31merror\x1b[0m: coloured by the writer",  # ANSI removed before the guess
        b"\xff\xfe error: not UTF-8",
    ]
    got = error_lines(raw, "syslog")
    assert [line.level for line in got] == [3, 2, 2, 3, 0, 3, 3]
    assert {line.source for line in got} == {"syslog"}
    assert got[0].identifier == "sshd" and got[0].pid == 812
    assert got[5].message == "error: coloured by the writer"  # inert: no escape sequence left
    assert got[6].message.startswith("\ufffd\ufffd error")


def test_journal_output_parsed_with_its_cursor():
    out = b"\n".join(json.dumps(e).encode() for e in [
        {"__CURSOR": "s=1;i=1", "__REALTIME_TIMESTAMP": "1764156721000000", "PRIORITY": "3",
         "SYSLOG_IDENTIFIER": "sshd", "MESSAGE": "error: bad key"},
        {"__CURSOR": "s=1;i=2", "__REALTIME_TIMESTAMP": "1764156722000000", "PRIORITY": "2",
         "MESSAGE": [104, 105, 255]},  # not UTF-8: journalctl writes the bytes as an array
        {"__CURSOR": "s=1;i=3", "__REALTIME_TIMESTAMP": "1764156723000000", "PRIORITY": "6",
         "MESSAGE": "info line (journalctl was asked for err and worse, checked again here)"},
    ]) + b"\n"
    lines, cursor = journal_errors(out, "journal")
    assert [(x.time, x.level, x.message) for x in lines] == [
        (1764156721.0, 3, "error: bad key"), (1764156722.0, 2, "hi\ufffd")]
    assert cursor == "s=1;i=3"
    # A cursor that is not cursor-shaped never reaches an argument list; nor does junk output.
    assert journal_errors(b'{"__CURSOR": "--output=cat"}\n', "j")[1] is None
    assert journal_errors(b"Journal file corrupted, ignoring\n", "j") == ([], None)


def test_window_slides_over_sixty_seconds():
    w = Window()
    w.add(100.0, "a", 5)
    w.add(130.0, "a", 3)
    w.add(130.0, "b", 1)
    w.add(131.0, "b", 0)  # nothing read: no entry
    assert w.counts(159.9) == {"a": 8, "b": 1}
    assert w.counts(160.0) == {"a": 3, "b": 1}  # the read at 100 s is exactly 60 s old: out
    assert w.counts(190.0) == {}
    assert len(w.events) == 0


def test_tally_counts_totals_and_keeps_the_last_lines():
    t = Tally(seconds=60.0, recent=3)
    t.add(100.0, "a", error_lines([ERR.format(i=i).strip().encode() for i in range(4)], "a"))
    t.add(120.0, "b", [])  # an empty read: no window entry, no total
    t.add(130.0, "b", error_lines([ERR.format(i=9).strip().encode()], "b"))
    assert t.counts(150.0) == {"a": 4, "b": 1} and t.totals == {"a": 4, "b": 1}
    assert [l.message[-3:] for l in t.recent] == ["(2)", "(3)", "(9)"]  # oldest first
    assert t.counts(160.0) == {"b": 1} and t.totals == {"a": 4, "b": 1}  # totals never slide
    assert t.counts(190.0) == {} and len(t.recent) == 3


def test_shape_bounds_messages_and_says_unknown_when_nothing_is_readable():
    ok = SourceStatus(name="app", kind="file", path="/x", available=True)
    bad = SourceStatus(name="secure", kind="file", path="/var/log/secure", available=False,
                       reason="permission denied: run as root or grant read access")
    [line] = error_lines([("error: " + "<b>x</b>" * 1000).encode()], "app")
    data = shape([ok, bad], {"app": 4}, {"app": 9}, [line], now_wall=1764156721.0)
    assert data.errors_per_minute == 4.0 and data.window == 60.0
    assert [(s.name, s.available, s.errors, s.total, s.reason) for s in data.sources] == [
        ("app", True, 4, 9, None), ("secure", False, 0, 0, bad.reason)]
    [r] = data.recent
    assert len(r.message) == MESSAGE_LIMIT and r.message.endswith("…")
    assert (r.time, r.level_name) == (1764156721.0, "err")  # no time in the line: when read
    none = shape([bad], {}, {}, [], now_wall=0.0)
    assert none.errors_per_minute is None
    assert LogsCollector([]).series(none) == {}
    assert LogsCollector([]).series(data) == {"logs.errors_per_minute": 4.0}


# -- files: the offset across ticks, truncation and rotation ---------------------------------------
def file_collector(path, name="app") -> LogsCollector:
    return LogsCollector([LogSource(name=name, kind="file", path=str(path))])


def test_first_tick_starts_at_the_end_then_counts_appends(tmp_path):
    log = tmp_path / "app.log"
    log.write_text(OLD * 500 + INFO.format(i=0))
    c = file_collector(log)
    assert c.collect(0.0).errors_per_minute == 0.0  # 500 old error lines: not "recent"
    append(log, "".join(ERR.format(i=i) + INFO.format(i=i) for i in range(3)))
    d = c.collect(1.0)
    assert d.errors_per_minute == 3.0 and counts(d) == {"app": 3}
    assert [r.message[-3:] for r in d.recent] == ["(0)", "(1)", "(2)"]
    assert c.collect(2.0).errors_per_minute == 3.0  # nothing new: same window, nothing re-read
    append(log, ERR.format(i=3))
    assert c.collect(30.0).errors_per_minute == 4.0
    assert c.collect(61.0).errors_per_minute == 1.0  # the first three left the window
    d = c.collect(91.0)
    assert d.errors_per_minute == 0.0 and d.sources[0].total == 4


def test_partial_line_waits_for_its_end(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("")
    c = file_collector(log)
    c.collect(0.0)
    append(log, "error: half a li")
    assert c.collect(1.0).errors_per_minute == 0.0
    append(log, "ne\n")
    d = c.collect(2.0)
    assert d.errors_per_minute == 1.0 and d.recent[0].message == "error: half a line"


def test_truncation_reads_the_file_again_from_its_start(tmp_path):
    log = tmp_path / "app.log"
    log.write_text(OLD * 50)
    c = file_collector(log)
    c.collect(0.0)
    append(log, ERR.format(i=1))
    assert c.collect(1.0).errors_per_minute == 1.0
    # copytruncate without a copy we could find: the file shrinks below our offset.
    with open(log, "w") as f:
        f.write(ERR.format(i=2) + INFO.format(i=2))
    d = c.collect(2.0)
    assert d.errors_per_minute == 2.0 and d.recent[-1].message.endswith("(2)")
    # Truncated and refilled past our offset: the bytes before the offset changed.
    with open(log, "w") as f:
        f.write(INFO.format(i=9) * 10 + ERR.format(i=3))
    d = c.collect(3.0)
    assert d.errors_per_minute == 3.0 and d.recent[-1].message.endswith("(3)")


def test_rename_and_create_reads_the_old_rest_then_the_new_file(tmp_path):
    log = tmp_path / "app.log"
    log.write_text(OLD * 50)
    c = file_collector(log)
    c.collect(0.0)
    append(log, ERR.format(i=1))  # written just before logrotate renames the file
    os.rename(log, tmp_path / "app.log.1")
    log.write_text(ERR.format(i=2) + ERR.format(i=3) + INFO.format(i=4))
    d = c.collect(1.0)
    assert d.errors_per_minute == 3.0
    assert [r.message[-3:] for r in d.recent] == ["(1)", "(2)", "(3)"]
    append(log, ERR.format(i=4))
    assert c.collect(2.0).errors_per_minute == 4.0  # the new file's offset was kept


def test_missing_file_that_appears_is_read_from_its_start(tmp_path):
    log = tmp_path / "later.log"
    c = file_collector(log)
    d = c.collect(0.0)
    assert d.errors_per_minute is None  # the only source cannot be read: unknown, not 0
    assert d.sources[0].reason == f"not found: {log}"
    log.write_text(ERR.format(i=1) + ERR.format(i=2))
    d = c.collect(1.0)
    assert (d.errors_per_minute, d.sources[0].available) == (2.0, True)


def test_unreadable_file_starts_at_its_end_once_readable(tmp_path, monkeypatch):
    """Fault injection: open() of the file is refused (as for /var/log/secure without root)."""
    log = tmp_path / "secure"
    log.write_text(OLD * 20)
    real_open, denied = builtins.open, {str(log)}

    def guarded_open(file, *args, **kwargs):
        if str(file) in denied:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", guarded_open)
    c = file_collector(log, "secure")
    d = c.collect(0.0)
    assert d.sources[0].reason == "permission denied: run as root or grant read access"
    assert d.errors_per_minute is None
    denied.clear()  # access granted: the 20 old error lines are not counted
    assert c.collect(1.0).errors_per_minute == 0.0
    append(log, ERR.format(i=1))
    assert c.collect(2.0).errors_per_minute == 1.0


def test_big_file_first_tick_reads_only_its_end(tmp_path):
    """A 1 GB file (sparse, then real lines at its end): the first tick counts nothing and reads
    a few KiB, not the file; later ticks read what was appended."""
    log = tmp_path / "big.log"
    with open(log, "wb") as f:
        f.truncate(1 << 30)
        f.seek(0, os.SEEK_END)
        f.write(b"\n" + OLD.encode() * 100)
    assert log.stat().st_size > 1 << 30
    me = psutil.Process()
    before = me.io_counters().read_chars
    c = file_collector(log)
    assert c.collect(0.0).errors_per_minute == 0.0
    for t in range(1, 6):
        assert c.collect(float(t)).errors_per_minute == 0.0
    read = me.io_counters().read_chars - before
    assert read < 256 * 1024, f"read {read} bytes of a 1 GB file"
    append(log, ERR.format(i=1) * 7)
    assert c.collect(6.0).errors_per_minute == 7.0


# -- the journal ----------------------------------------------------------------------------------
def test_journal_arguments_are_a_list_from_configuration_and_its_cursor():
    j = JournalErrors(LogSource(name="journal", kind="journal", path="/var/log/journal"), since=1764156721.5)
    args = j.args("/usr/bin/journalctl")
    assert args[:2] == ["/usr/bin/journalctl", "--output=json"]
    assert {"--no-pager", "--priority=3", "--since=@1764156721.500000",
            "--directory=/var/log/journal"} <= set(args)
    j.cursor = "s=abc;i=2f"
    later = j.args("/usr/bin/journalctl")
    assert later[-1] == "--after-cursor=s=abc;i=2f" and not any(a.startswith("--since") for a in later)


def wait_journal(c: LogsCollector, start: float):
    """Tick until the collector's journal read has finished (bounded)."""
    t = start
    for _ in range(100):
        d = c.collect(t)
        if all(r.proc is None for r in c.readers if isinstance(r, JournalErrors)):
            return d, t
        time.sleep(0.05)
        t += 0.05
    raise AssertionError("journalctl did not finish in 5 s")


def test_real_journalctl_counts_a_journal_of_the_tests_own(tmp_path):
    """The real journalctl on a real journal file the test wrote (tests/journal_files.py): its
    error-level entry newer than the collector's start is counted and shown, the rest is not."""
    assert shutil.which("journalctl") or not IN_CI, "CI installs systemd: journalctl must be present"
    if shutil.which("journalctl") is None:
        pytest.skip("journalctl not installed (apt-get install -y systemd)")
    now = time.time()
    write_journal(tmp_path / "j", [
        {"MESSAGE": "old failure", "PRIORITY": "3", "time": str(now - 3600)},
        {"MESSAGE": "fresh failure", "PRIORITY": "3", "SYSLOG_IDENTIFIER": "app", "time": str(now + 2)},
        {"MESSAGE": "fresh info", "PRIORITY": "6", "time": str(now + 3)},
    ])
    c = LogsCollector([LogSource(name="j", kind="journal", path=str(tmp_path / "j"))])
    d, _ = wait_journal(c, 0.0)
    assert d.sources[0].available, d.sources[0].reason
    assert d.sources[0].errors == 1 and d.errors_per_minute == 1.0
    assert [r.message for r in d.recent] == ["fresh failure"] and d.recent[0].source == "j"


def journal_dir(tmp_path) -> str:
    """A journal directory with a journal file in it, for the tests whose journalctl is a
    stand-in (it reads nothing): status() says a directory without one has nothing to read."""
    d = tmp_path / "journal"
    d.mkdir(exist_ok=True)
    (d / "system.journal").touch()
    return str(d)


def test_missing_journalctl_is_unavailable(monkeypatch):
    """Fault injection: no journalctl on PATH."""
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    d = LogsCollector([LogSource(name="journal", kind="journal")]).collect(0.0)
    assert d.sources[0].available is False and d.sources[0].reason.startswith("journalctl not found")
    assert d.errors_per_minute is None


def test_hung_journalctl_never_holds_the_tick_and_is_reported(tmp_path, monkeypatch):
    """Fault injection: a journalctl that never answers. The tick does not wait for it; after the
    timeout it is killed and the source says why."""
    fake = tmp_path / "journalctl"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ.get('PATH', '')}")
    log = tmp_path / "app.log"
    log.write_text("")
    c = LogsCollector([LogSource(name="journal", kind="journal", path=journal_dir(tmp_path)),
                       LogSource(name="app", path=str(log))])
    [j] = [r for r in c.readers if isinstance(r, JournalErrors)]
    j.timeout = 1.0
    c.collect(0.0)
    proc = j.proc
    assert proc is not None and proc.poll() is None  # started, still running: the tick went on
    append(log, ERR.format(i=1))
    d = c.collect(0.5)
    assert counts(d) == {"journal": 0, "app": 1} and d.sources[0].available
    d = c.collect(1.6)
    assert d.sources[0].available is False
    assert d.sources[0].reason == "journalctl did not answer within 1 s"
    assert proc.poll() is not None and j.proc is None  # killed and reaped
    assert d.errors_per_minute == 1.0  # the file source still counts


def fds_under(path) -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if (target := os.readlink(f"/proc/self/fd/{fd}")).startswith(str(path)):
                out.append(target)
    return out


def test_close_releases_its_files_and_kills_a_running_journalctl(tmp_path, monkeypatch):
    """close() (Sampler.close() calls it at shutdown): the file cursors, a file rotated away but
    still drained, journalctl's output file and journalctl itself are all released."""
    bin_dir, logs_dir, spool = (tmp_path / d for d in ("bin", "logs", "spool"))
    for d in (bin_dir, logs_dir, spool):
        d.mkdir()
    fake = bin_dir / "journalctl"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '')}")
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # journalctl's output file goes here
    log = logs_dir / "app.log"
    log.write_text("")
    c = LogsCollector([LogSource(name="journal", kind="journal", path=journal_dir(tmp_path)),
                       LogSource(name="app", path=str(log))])
    [j] = [r for r in c.readers if isinstance(r, JournalErrors)]
    c.collect(0.0)
    log.rename(logs_dir / "app.log.1")  # rename + create: the old file stays open, retired
    append(log, ERR.format(i=1))
    assert counts(c.collect(0.5)) == {"journal": 0, "app": 1}
    proc = j.proc
    assert proc is not None and proc.poll() is None
    assert len(fds_under(logs_dir)) == 2 and len(fds_under(spool)) == 1, os.listdir("/proc/self/fd")
    c.close()
    assert fds_under(logs_dir) == [] and fds_under(spool) == []
    assert proc.returncode is not None and j.proc is None  # killed and reaped: no zombie
    assert not psutil.pid_exists(proc.pid) or psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE
    c.close()  # twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        c.collect(1.0)  # a tick racing the shutdown opens nothing again


def test_the_console_closes_the_logs_area_at_shutdown(tmp_path, monkeypatch):
    """End to end: the app's shutdown (Sampler.close() on every collector) releases the area's
    files and its running journalctl."""
    from fastapi.testclient import TestClient

    from main import create_app
    from tests.conftest import AUTH, make_settings
    bin_dir, logs_dir, spool = (tmp_path / d for d in ("bin", "logs", "spool"))
    for d in (bin_dir, logs_dir, spool):
        d.mkdir()
    fake = bin_dir / "journalctl"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '')}")
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    log = logs_dir / "app.log"
    log.write_text("")
    settings = make_settings(tick=0.2, data_dir=tmp_path, log_sources=[
        {"name": "app", "kind": "file", "path": str(log)},
        {"name": "journal", "kind": "journal", "path": journal_dir(tmp_path)}])
    collectors = default_collectors(settings)
    [logs] = [c for c in collectors if c.name == "logs"]
    [j] = [r for r in logs.readers if isinstance(r, JournalErrors)]
    with TestClient(create_app(settings, collectors=collectors), base_url="http://127.0.0.1", headers=AUTH):
        deadline = time.monotonic() + 10
        while not (j.proc is not None and fds_under(logs_dir) and fds_under(spool)):
            assert time.monotonic() < deadline, "the logs area never opened its file and journalctl"
            time.sleep(0.05)
        proc = j.proc
    assert fds_under(logs_dir) == [] and fds_under(spool) == []
    assert proc.returncode is not None and j.proc is None
    # A second lifespan of the same app (an ASGI test client does this) collects the area again.
    app = create_app(settings, collectors=collectors)
    with TestClient(app, base_url="http://127.0.0.1", headers=AUTH) as again:
        body = again.get("/api/snapshot").json()
        assert "logs" not in body["unavailable"] and body["logs"] is not None
    assert fds_under(logs_dir) == []


# -- end to end: Settings -> sampler -> /api, /dashboard, /api/health, /metrics -------------------
def test_registered_after_processes_and_built_from_settings(tmp_path):
    settings = Settings(log_sources=[{"name": "app", "kind": "file", "path": str(tmp_path / "a.log")}])
    names = [c.name for c in default_collectors(settings)]
    assert names[-2:] == ["processes", "logs"]
    [logs] = [c for c in default_collectors(settings) if c.name == "logs"]
    assert [r.source.name for r in logs.readers] == ["app"] and logs.custom_api is True


def wait_for(client, pred, seconds: float = 10.0, headers=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get("/api/snapshot", headers=headers).json()
        if body.get("logs") is not None and pred(body["logs"]):
            return body
        time.sleep(0.1)
    raise AssertionError(f"logs area never matched: {body.get('logs')} {body.get('unavailable')}")


@pytest.fixture
def logged(make_client, tmp_path):
    log = tmp_path / "app.log"
    log.write_text(OLD * 200)  # already there when the console starts: must not count
    client = make_client(
        tick=0.2, data_dir=tmp_path,
        log_sources=[{"name": "app", "kind": "file", "path": str(log)},
                     {"name": "gone", "kind": "file", "path": str(tmp_path / "gone.log")}],
        thresholds={"logs_errors": {"warning": 5, "critical": 20, "for": 0, "clear": 2}})
    return client, log


def test_errors_per_minute_rise_in_the_api_card_health_and_metrics(logged):
    client, log = logged
    body = wait_for(client, lambda d: d["errors_per_minute"] == 0.0)
    by_name = {s["name"]: s for s in body["logs"]["sources"]}
    assert by_name["app"]["available"] and by_name["app"]["total"] == 0
    assert by_name["gone"]["available"] is False and by_name["gone"]["reason"].startswith("not found: ")
    assert not any(v["check"] == "logs_errors" for v in client.get("/api/health").json()["verdicts"])

    append(log, "".join(INFO.format(i=i) + ERR.format(i=i) for i in range(29))
           + "2025-11-26T10:06:00+00:00 web1 app[7]: error: <script>alert(1)</script> \x1b[2J\n")
    body = wait_for(client, lambda d: d["errors_per_minute"] >= 30)
    logs = body["logs"]
    assert logs["errors_per_minute"] == 30.0
    assert {s["name"]: s["errors"] for s in logs["sources"]} == {"app": 30, "gone": 0}
    assert [r["message"][-4:] for r in logs["recent"][:4]] == ["(25)", "(26)", "(27)", "(28)"]
    assert logs["recent"][-1]["message"] == "2025-11-26T10:06:00+00:00 web1 app[7]: error: <script>alert(1)</script> "

    # The generic /api/logs area route was not added: /api/logs is still the log query.
    assert client.get("/api/logs").status_code == 422
    q = client.get("/api/logs", params={"source": "app", "level": "err", "lines": 5}).json()
    assert q["source"] == "app" and len(q["lines"]) == 5

    health = client.get("/api/health")
    assert health.status_code == 503
    [v] = [v for v in health.json()["verdicts"] if v["check"] == "logs_errors"]
    assert (v["area"], v["state"], v["value"], v["threshold"]) == ("logs", "critical", 30.0, 20)
    assert v["reason"] == "30 error lines per minute in the logs (critical at 20/min)"

    page = client.get("/dashboard").text
    card = page[page.index('id="logs"'):]
    card = card[:card.index("</section>")]
    assert 'data-metric="logs.errors_per_minute"' in card and ">30<" in card
    assert "state-critical" in card
    assert 'title="error lines in the last minute; critical: warning at 5/min, critical at 20/min"' in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card and "<script>alert" not in card
    assert "\x1b" not in card
    assert 'href="/logs?level=err"' in card and 'href="/logs?source=app&amp;level=err"' in card
    assert "not found: " in card and "unavailable" in card

    fams = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    fam = fams["server_monitor_logs_errors_per_minute"]
    assert fam.type == "gauge" and [s.value for s in fam.samples] == [30.0]
    assert {s.labels["source"]: s.value for s in fams["server_monitor_logs_source_readable"].samples} == \
        {"app": 1.0, "gone": 0.0}
    points = client.get("/api/history/logs.errors_per_minute").json()["points"]
    assert points[0][1] == 0.0 and points[-1][1] == 30.0  # the sparkline's series


def test_card_fragment_when_unavailable(make_client, tmp_path):
    """Every source unreadable: the card says so per source and shows no number."""
    client = make_client(tick=0.2, data_dir=tmp_path,
                         log_sources=[{"name": "gone", "kind": "file", "path": str(tmp_path / "x.log")}])
    body = wait_for(client, lambda d: True)
    assert body["logs"]["errors_per_minute"] is None
    page = client.get("/dashboard").text
    card = page[page.index('id="logs"'):]
    card = card[:card.index("</section>")]
    assert "no log source can be read" in card and 'data-metric="logs.errors_per_minute"' not in card
    assert f"not found: {tmp_path / 'x.log'}" in card


def test_wall_screens_get_counts_but_no_log_text(make_client, tmp_path):
    """With a display credential configured, the card (which /wall and /stream carry to the display
    token) shows counts, sources and levels but not the messages; the full token's API has them."""
    full, display = "full-token-0123456789abcdef", "display-token-0123456789abcdef"
    log = tmp_path / "auth.log"
    log.write_text("")
    client = make_client(tick=0.2, data_dir=tmp_path, token=full, display_token=display,
                         log_sources=[{"name": "auth", "kind": "file", "path": str(log)}])
    append(log, "Nov 26 11:32:01 web1 sshd[9]: error: Failed password for hunter2-typed-as-user\n")
    as_full = {"Authorization": f"Bearer {full}"}
    body = wait_for(client, lambda d: d["errors_per_minute"] == 1.0, headers=as_full)
    assert "hunter2-typed-as-user" in body["logs"]["recent"][0]["message"]
    # Deprecated, kept because /api/snapshot publishes it: the card decides per scope (`full`).
    assert body["logs"]["messages_on_card"] is False
    field = client.get("/openapi.json", headers=as_full).json()["components"]["schemas"]["Logs"][
        "properties"]["messages_on_card"]
    assert field["deprecated"] is True and field["description"].startswith("Deprecated")
    wall = client.get("/wall", headers={"Authorization": f"Bearer {display}"})
    assert wall.status_code == 200
    card = wall.text[wall.text.index('id="logs"'):]
    card = card[:card.index("</section>")]
    assert ">1<" in card and ">err<" in card and "auth" in card
    assert "hunter2" not in wall.text and "Message text is shown only to" in card
    # The same for anonymous loopback (the display scope), and the full scope sees the text.
    anonymous = client.get("/dashboard").text
    assert "hunter2" not in anonymous and 'href="/logs' not in anonymous
    assert "hunter2-typed-as-user" in client.get("/dashboard", headers=as_full).text
