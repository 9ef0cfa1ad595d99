"""Events: one per episode away from ok, with start, end, peak and top processes; kept on disk."""
from __future__ import annotations

import json

from monitor.events import EventLog
from monitor.health import Judge
from monitor.thresholds import Thresholds
from tests.test_health import disks, fs, memory, processes, row, snap

TH = Thresholds(memory_percent={"warning": 50, "critical": 80, "for": 0, "clear": 45},
                fs_percent={"warning": 50, "critical": 80, "for": 0, "clear": 45})


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
