"""Events: one per episode away from ok, with start, end, peak and top processes; kept on disk."""
from __future__ import annotations

import json
import os
import stat
import time

import pytest

from monitor.events import EventLog
from monitor.health import Judge
from monitor.thresholds import Thresholds
from tests.test_health import disks, fs, memory, processes, row, snap

TH = Thresholds(memory_percent={"warning": 50, "critical": 80, "for": 0, "clear": 45},
                disks_percent={"warning": 50, "critical": 80, "for": 0, "clear": 45})


def run(judge, series, **extra):
    """Feed memory percentages at t = 0, 1, 2, ..."""
    for t, pct in enumerate(series):
        judge(snap(t=float(t), memory=memory(pct), **extra))


def test_an_episode_is_one_event_with_start_end_peak_and_states(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    rows = [row(1, "hog", rss=9000), row(2, "small", rss=10)]
    run(Judge(TH, log), [10, 60, 85, 90, 70, 40, 10], processes=processes(rows))
    [ev] = log.recent()
    assert (ev.check, ev.state, ev.start, ev.end) == ("memory_percent", "critical", 1.0, 5.0)
    assert (ev.peak, ev.peak_at) == (90, 3.0)
    assert ev.states == [(1.0, "warning"), (2.0, "critical"), (4.0, "warning"), (5.0, "ok")]
    assert ev.reason.startswith("memory is 90 % used")
    assert [p.name for p in ev.top] == ["hog", "small"]


def test_ok_never_makes_an_event(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    run(Judge(TH, log), [10, 20, 30])
    assert log.recent() == []
    assert not (tmp_path / "events.jsonl").exists()


def test_events_survive_a_restart_and_open_ones_are_marked_interrupted(tmp_path):
    path = tmp_path / "state" / "events.jsonl"  # the data directory is created on first write
    log = EventLog(path)
    j = Judge(TH, log)
    run(j, [10, 60, 10, 70, 75])  # one closed episode, one still open at "shutdown"
    log.close()
    again = EventLog(path)
    closed, interrupted = sorted(again.recent(), key=lambda e: e.start)
    assert (closed.start, closed.end, closed.interrupted, closed.peak) == (1.0, 2.0, False, 60)
    assert (interrupted.start, interrupted.interrupted, interrupted.peak) == (3.0, True, 75)
    assert interrupted.end == 4.0  # its last known moment, not "still open" forever
    assert [e.id for e in again.recent()] == [e.id for e in log.recent()]


def test_the_file_is_append_only_and_a_torn_line_is_skipped(tmp_path):
    path = tmp_path / "events.jsonl"
    run(Judge(TH, EventLog(path)), [60, 10])
    lines = path.read_text().splitlines()
    assert len(lines) == 2  # opened, closed: not one line per tick
    assert json.loads(lines[0])["end"] is None and json.loads(lines[1])["end"] == 1.0
    with open(path, "a") as f:
        f.write('{"id": "half a li')  # a crash mid-write
    [ev] = EventLog(path).recent()
    assert ev.end == 1.0


def test_size_is_bounded(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path, keep=10, max_bytes=4000)
    j = Judge(TH, log)
    run(j, [60, 10] * 100)  # 100 episodes
    assert len(log.recent(1000)) == 10
    assert path.stat().st_size <= 4000 + 1000  # compacted whenever it passes max_bytes
    reloaded = EventLog(path, keep=10)
    assert [e.id for e in reloaded.recent()] == [e.id for e in log.recent()]
    assert reloaded.recent()[0].start == 198.0  # the newest kept


def test_a_vanished_subject_ends_its_event(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    j = Judge(TH, log)
    j(snap(t=0, disks=disks(fs("/", 10), fs("/mnt", 90))))
    j(snap(t=1, unavailable={"disks": "hung"}))  # area missing: the event stays open
    assert log.recent()[0].end is None
    j(snap(t=2, disks=disks(fs("/", 10))))  # area back, /mnt gone: the event ends
    ev = log.recent()[0]
    assert (ev.subject, ev.end, ev.states[-1]) == ("/mnt", 2.0, (2.0, "gone"))


def test_unwritable_directory_does_not_stop_judgment(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    log = EventLog(blocker / "events.jsonl")
    run(Judge(TH, log), [60, 90])
    assert log.recent()[0].state == "critical"  # kept in memory, the write error only logged


def test_a_long_open_event_neither_disables_the_limit_nor_leaves_the_file(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path, keep=10, max_bytes=4000)
    j = Judge(TH, log)
    for t in range(200):  # memory stays high all along while / flaps: 100 short episodes
        j(snap(t=float(t), memory=memory(60), disks=disks(fs("/", 60 if t % 2 == 0 else 10))))
    [held] = log.open_events()
    assert (held.check, held.start) == ("memory_percent", 0.0)
    events = log.recent(1000)
    assert len(events) == 10 and held in events  # the open one and the newest nine closed ones
    assert path.stat().st_size <= 4000 + 1000  # still compacted
    reloaded = EventLog(path, keep=10)
    survivor = next(e for e in reloaded.recent(1000) if e.id == held.id)
    assert survivor.interrupted and survivor.start == 0.0


def test_reloaded_events_are_in_start_order_like_the_running_log(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    j = Judge(TH, log)
    # memory opens at t=0 and closes at t=3 (its last line is written last); / opens at t=1.
    for t, (mem, used) in enumerate([(60, 10), (60, 60), (60, 60), (10, 60)]):
        j(snap(t=float(t), memory=memory(mem), disks=disks(fs("/", used))))
    running = [e.id for e in log.recent()]
    assert [e.start for e in log.recent()] == [1.0, 0.0]  # newest first
    assert [e.id for e in EventLog(path).recent()] == running


# --- the file survives crashes, full disks and odd files ------------------------------------------
def lines_of(path):
    """Every line of the file, each required to be a whole event."""
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    return [json.loads(line) for line in raw.decode().splitlines()]


def test_a_torn_last_line_is_cut_at_start_and_later_appends_stay_whole(tmp_path):
    path = tmp_path / "events.jsonl"
    run(Judge(TH, EventLog(path)), [60, 10])
    with open(path, "ab") as f:
        f.write(b'{"id": "half a li')  # a crash mid-write
    log = EventLog(path)
    assert path.read_bytes().endswith(b"}\n")  # cut back to the last whole line
    j = Judge(TH, log)
    for t, pct in enumerate([60, 10], start=10):
        j(snap(t=float(t), memory=memory(pct)))
    assert [(e["start"], e["end"]) for e in lines_of(path)] == [(0.0, None), (0.0, 1.0), (10.0, None), (10.0, 11.0)]


def test_a_last_line_missing_only_its_newline_is_kept(tmp_path):
    path = tmp_path / "events.jsonl"
    run(Judge(TH, EventLog(path)), [60, 10])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # the write got all but the newline
    [ev] = EventLog(path).recent()
    assert ev.end == 1.0 and path.read_bytes().endswith(b"}\n")


def test_a_write_cut_short_by_a_full_disk_leaves_no_half_line(tmp_path):
    """RLIMIT_FSIZE makes the kernel cut a write short exactly as a full disk does (EFBIG past the
    limit): the file is cut back, and the event is written whole with the next append."""
    import resource
    import signal

    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    j = Judge(TH, log)
    j(snap(t=0.0, memory=memory(60)))
    size = path.stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a core dump
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 40, hard))
        j(snap(t=1.0, memory=memory(90)))  # warning -> critical: an append, 40 bytes fit
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)
    assert path.stat().st_size == size  # no half line left behind
    j(snap(t=2.0, memory=memory(10)))  # the next append carries what failed (its newest state)
    assert [e["states"] for e in lines_of(path)][-1] == [[0.0, "warning"], [1.0, "critical"], [2.0, "ok"]]
    assert EventLog(path).recent()[0].end == 2.0


@pytest.mark.parametrize("kind", ["/dev/full", "fifo"])
def test_a_non_regular_file_is_refused_not_read(tmp_path, kind, caplog):
    path = tmp_path / "events.jsonl"
    if kind == "fifo":
        os.mkfifo(path)  # opening it to read would wait for a writer forever
    else:
        path.symlink_to("/dev/full")  # reading it never ends
    t0 = time.monotonic()
    log = EventLog(path)
    assert time.monotonic() - t0 < 1
    assert "is not a regular file: not read" in caplog.text
    run(Judge(TH, log), [60, 90])
    assert log.recent()[0].state == "critical"  # judged and kept in memory all the same
    assert path.is_symlink() or stat.S_ISFIFO(os.lstat(path).st_mode)  # left as it was


def test_an_oversized_file_is_refused(tmp_path, caplog):
    path = tmp_path / "events.jsonl"
    log = EventLog(path, keep=10, max_bytes=4000)
    with open(path, "wb") as f:
        f.truncate(log.refuse_bytes + 1)  # sparse: large, and free to make
    t0 = time.monotonic()
    again = EventLog(path, keep=10, max_bytes=4000)
    assert time.monotonic() - t0 < 1 and again.recent() == []
    assert f"over its bound of {log.refuse_bytes}" in caplog.text
    run(Judge(TH, again), [60])
    assert path.stat().st_size == log.refuse_bytes + 1  # nothing appended to it


def test_non_finite_numbers_are_rejected_at_load_and_never_written(tmp_path, make_client):
    path = tmp_path / "events.jsonl"
    run(Judge(TH, EventLog(path)), [60, 10])
    good = path.read_text()
    nan = good.splitlines()[-1].replace('"peak":60.0', '"peak":NaN').replace('"id":"0.000', '"id":"9.000')
    assert "NaN" in nan
    path.write_text(good + nan + "\n")
    log = EventLog(path)
    assert [e.peak for e in log.recent()] == [60.0]  # the NaN line skipped, the rest loaded
    c = make_client(collectors=[], tick=60, data_dir=tmp_path)
    assert c.get("/dashboard").status_code == 200 and c.get("/api/events").status_code == 200
    # An event that somehow holds Infinity (model_copy does not validate) is never written.
    [ev] = log.recent()
    log._append(ev.model_copy(update={"peak": float("inf")}))
    assert "Infinity" not in path.read_text() and lines_of(path)


def test_an_episode_open_at_shutdown_ends_when_last_seen_not_at_its_peak(tmp_path):
    """Issue 12: an episode still critical at restart ended at its peak time; now at the last
    tick the console saw it open."""
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    run(Judge(TH, log), [90, 85, 85, 85])  # peak at t=0, still critical at t=3
    log.close()
    [ev] = EventLog(path).recent()
    assert (ev.interrupted, ev.peak_at, ev.end) == (True, 0.0, 3.0)


def test_events_written_under_the_old_check_names_read_with_the_new_ones(tmp_path):
    """An events.jsonl from before the checks were renamed (issue 11): fs_percent is disks_percent."""
    path = tmp_path / "events.jsonl"
    line = {"id": "5.000-fs_percent:/var", "check": "fs_percent", "subject": "/var", "area": "disks",
            "state": "warning", "start": 5.0, "end": 9.0, "peak": 88.0, "peak_at": 6.0, "unit": "%",
            "states": [[5.0, "warning"], [9.0, "ok"]], "reason": "/var is 88 % full (warning at 85 %)"}
    path.write_text(json.dumps(line) + "\n")
    [ev] = EventLog(path).recent()
    assert (ev.id, ev.check, ev.subject) == ("5.000-fs_percent:/var", "disks_percent", "/var")


# ---- issue 12: across restarts, the hold, a reboot ----------------------------------------------

def two_lifetimes(path, first, second, boot=(1000.0, 1000.0)):
    """One console lifetime judging ``first`` (t = 0, 1, ...), shut down, a second one judging
    ``second`` from t = 100."""
    log = EventLog(path, boot_time=boot[0])
    run(Judge(TH, log), first)
    log.close()
    again = EventLog(path, boot_time=boot[1])
    j = Judge(TH, again)
    for t, pct in enumerate(second, 100):
        j(snap(t=float(t), memory=memory(pct)))
    return again


def test_an_episode_still_true_at_restart_is_the_same_episode_with_the_gap_noted(tmp_path):
    path = tmp_path / "events.jsonl"
    log = two_lifetimes(path, [10, 60, 90], [85, 95, 10])
    [ev] = log.recent()
    assert (ev.start, ev.end, ev.interrupted, ev.note) == (1.0, 102.0, False, "")
    assert ev.gaps == [(2.0, 100.0)]
    assert ev.states == [(1.0, "warning"), (2.0, "critical"), (2.0, "stopped"), (100.0, "critical"),
                         (102.0, "ok")]
    assert (ev.peak, ev.peak_at) == (95, 101.0)
    [again] = EventLog(path, boot_time=1000.0).recent()  # and so it reads from the file
    assert again == ev


def test_an_episode_ok_at_restart_ended_while_the_console_was_stopped(tmp_path):
    path = tmp_path / "events.jsonl"
    log = two_lifetimes(path, [10, 60, 90], [10, 10])
    [ev] = log.recent()
    assert (ev.end, ev.interrupted, ev.note) == (2.0, True, "ended while the console was stopped")
    assert log.open_events() == [] and ev.gaps == []
    [again] = EventLog(path, boot_time=1000.0).recent()
    assert again.note == "ended while the console was stopped"


def test_the_peak_covers_the_hold_before_the_state_rose(tmp_path):
    th = Thresholds(memory_percent={"warning": 50, "critical": 95, "for": 3, "clear": 45})
    log = EventLog(tmp_path / "events.jsonl", boot_time=1000.0)
    run(Judge(th, log), [10, 90, 70, 60, 60, 60, 10])  # above 50 from t=1, warning once held 3 s
    [ev] = log.recent()
    assert ev.start == 1.0 and (ev.peak, ev.peak_at) == (90, 1.0)
    assert "during the hold" in ev.reason


def test_a_changed_boot_time_records_a_reboot(tmp_path, make_client):
    path = tmp_path / "events.jsonl"
    EventLog(path, boot_time=1_764_000_000.0)
    assert EventLog(path, boot_time=1_764_000_000.0).recent() == []  # same boot: nothing
    [ev] = EventLog(path, boot_time=1_764_086_400.0).recent()
    assert (ev.check, ev.area, ev.start) == ("system_reboot", "system", 1_764_086_400.0)
    assert ev.reason == "host rebooted at 2025-11-25 16:00:00 UTC"
    assert len(EventLog(path, boot_time=1_764_086_400.0).recent()) == 1  # recorded once


def test_api_events_shows_the_reopened_the_stopped_and_the_reboot(tmp_path, make_client):
    path = tmp_path / "events.jsonl"
    (tmp_path / "boot_time").write_text("1000.0\n")  # a boot before this one: the host rebooted
    log = EventLog(path, boot_time=1000.0)
    th = Thresholds(memory_percent={"warning": 50, "critical": 80, "for": 0, "clear": 45},
                    disks_percent={"warning": 50, "critical": 80, "for": 0, "clear": 45})
    j = Judge(th, log)
    j(snap(t=1.0, memory=memory(90), disks=disks(fs("/", 90))))
    log.close()
    c = make_client(collectors=[], tick=60, data_dir=tmp_path)
    events = c.get("/api/events").json()
    events = events.get("events", events) if isinstance(events, dict) else events
    checks = {e["check"]: e for e in events}
    assert checks["system_reboot"]["reason"].startswith("host rebooted at ")
    assert c.get("/dashboard").status_code == 200  # (its banner lists the last hour's events only)
    # No collectors: nothing judges memory or disks again yet, so both read as ended at t=1 so far.
    assert checks["memory_percent"]["end"] == 1.0 and checks["memory_percent"]["interrupted"]


class FixedMemory:
    """A memory area at a fixed percentage (the app's own sampler and judge, no host)."""
    name = "memory"
    interval = 0.0

    def __init__(self, pct):
        self.pct = pct
        self.model = type(memory(pct))

    def collect(self, now):
        return memory(self.pct)

    def series(self, data):
        return {}


def test_api_events_across_app_lifetimes(tmp_path, make_client):
    def lifetime(pct):
        c = make_client(collectors=[FixedMemory(pct)], tick=60, data_dir=tmp_path, thresholds=TH)
        body = c.get("/api/events").json()["events"]
        c.__exit__(None, None, None)  # shutdown: the open event written with its last moment
        return [e for e in body if e["check"] == "memory_percent"]

    [first] = lifetime(90)
    assert first["end"] is None and first["gaps"] == []
    [second] = lifetime(90)  # still critical at the next start: the same episode, the gap noted
    assert second["id"] == first["id"] and second["end"] is None and len(second["gaps"]) == 1
    assert [s for _, s in second["states"]] == ["critical", "stopped", "critical"]
    [third] = lifetime(10)  # ok at the next start: it ended while the console was stopped
    assert third["id"] == first["id"] and third["interrupted"]
    assert third["note"] == "ended while the console was stopped"
    assert third["end"] <= second["gaps"][0][1] + 120
