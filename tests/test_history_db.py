"""The history database on real SQLite files: 30 days of generated minutes (pruning, size, range
queries), the series cap, restarts, corrupt files (monitor/history/db.py, query.py)."""
from __future__ import annotations

import logging
import math
import os
import sqlite3
import time

import pytest

from monitor.history.db import HistoryDB, Minute
from monitor.history.query import RangeError, Range, buckets, parse_range
from monitor.store import History

NAMES = ["cpu.percent", "memory.percent", "disks./.percent", "network.bytes_recv_per_s", "logs.errors_per_minute"]


def generated(first: int, count: int, names=NAMES) -> list[Minute]:
    """Minute m: series i has mean (m % 1000) + i, min mean - 1, max mean + 1, 60 samples."""
    return [Minute(m, {n: ((m % 1000) + i - 1, (m % 1000) + i, (m % 1000) + i + 1, 60)
                       for i, n in enumerate(names)}, top={"cpu": [], "memory": []})
            for m in range(first, first + count)]


@pytest.fixture
def month(tmp_path):
    """A database holding 31 days of minutes up to now, kept 30 days."""
    now = time.time()
    db = HistoryDB(tmp_path / "history.sqlite", keep_days=30)
    db.open()
    last = int(now // 60)
    db.write_many(generated(last - 31 * 1440 + 1, 31 * 1440))
    yield db, now, last
    db.close()


def rows(db: HistoryDB, sql: str):
    with sqlite3.connect(db.path) as c:
        return c.execute(sql).fetchall()


def test_prune_keeps_thirty_days_and_the_size_is_bounded(month):
    db, now, last = month
    assert rows(db, "SELECT count(*) FROM rollup")[0][0] == 31 * 1440 * len(NAMES)
    db.prune(now)
    oldest = last - 30 * 1440
    assert rows(db, "SELECT min(minute), max(minute) FROM rollup")[0] == (oldest, last)
    assert rows(db, "SELECT count(*) FROM rollup")[0][0] == (30 * 1440 + 1) * len(NAMES)
    assert rows(db, "SELECT min(minute) FROM minute")[0][0] == oldest
    # Size: the rows as stored plus B-tree overhead, bounded per row (the 30-day figure per series
    # count is in bench/history.py). VACUUM is not needed: SQLite reuses the freed pages.
    n_rows = (30 * 1440 + 1) * len(NAMES)
    assert db.size() < n_rows * 80 + 8 * 1024 * 1024


def test_a_range_query_has_prometheus_alignment_and_exact_buckets(month):
    db, now, last = month
    since = (last - 120) * 60  # two hours ago, on a minute
    found = db.buckets("cpu.percent", since, since + 3600, 300)
    assert [t for t, *_ in found] == [since + k * 300 for k in range(13)]  # since + k*step <= until
    # The bucket at t holds the minutes in (t - 300, t]: for k >= 1 that is five minutes.
    t, mean, lo, hi, n = found[3]
    ms = [m for m in range((t - 300) // 60 + 1, t // 60 + 1)]
    assert len(ms) == 5 and n == 300
    assert mean == pytest.approx(sum(m % 1000 for m in ms) / 5)
    assert lo == min(m % 1000 for m in ms) - 1 and hi == max(m % 1000 for m in ms) + 1
    # k = 0 is (since - step, since] too: the five minutes up to since, as Prometheus looks back.
    assert found[0][4] == 300 and found[0][1] == pytest.approx(sum((since // 60 - j) % 1000 for j in range(5)) / 5)


def test_old_ranges_read_the_rollups_and_recent_ones_the_ring(month):
    db, now, last = month
    ring = History(900)
    for k in range(300):  # the last five minutes of ticks, at 50 (in no generated minute)
        ring.add(now - 300 + k, {"cpu.percent": 50.0})
    source, old = buckets(ring, db, "cpu.percent", parse_range("7d", None, "1h", now=now), 900, now)
    assert source == "rollups" and 160 <= len(old) <= 170
    source, recent = buckets(ring, db, "cpu.percent", parse_range("4m", None, "10", now=now), 900, now)
    assert source == "ring" and recent and all(m == 50.0 for _, m, _, _ in recent)


def test_a_week_of_rollups_plus_the_minute_not_written_yet_from_the_ring(tmp_path):
    db = HistoryDB(tmp_path / "h.sqlite")
    db.open()
    now = time.time()
    last_written = int(now // 60) - 1
    db.write_many(generated(last_written - 60, 61, ["cpu.percent"]))
    ring = History(900)
    start = int(now // 60) * 60
    for k in range(int(now - start)):
        ring.add(start + k + 0.5, {"cpu.percent": 5000.0})  # rollups are below 1001
    rng = parse_range("2h", None, "60", now=now)
    _, found = buckets(ring, db, "cpu.percent", rng, 900, now)
    assert found[-1][1] == 5000.0 or now - start < 1  # the minute in progress, from the ring
    assert all(m < 5000 for _, m, _, _ in found[:-1])


@pytest.mark.parametrize("since, until, step, why", [
    ("1h", "2h", None, "must not be before"),
    ("1h", None, "0", "zero or negative"),
    ("1h", None, "-5", "not a duration"),
    ("30d", None, "1", "more than 11000"),
    ("yesterday", None, None, "is not a time"),
    ("99999999999", None, None, "a year in the future"),
])
def test_bad_ranges_say_why(since, until, step, why):
    with pytest.raises(RangeError, match=why):
        parse_range(since, until, step)


def test_the_series_cap_stores_the_first_ones_and_says_so(tmp_path, caplog):
    db = HistoryDB(tmp_path / "h.sqlite", series_max=10)
    db.open()
    names = [f"network.veth{i}.bytes_recv_per_s" for i in range(15)]
    with caplog.at_level(logging.WARNING, "server_monitor.history"):
        db.write_many(generated(int(time.time() // 60) - 3, 3, names))
    assert len(db.names()) == 10 and len(db.dropped) == 5
    assert "the limit (history_series_max)" in caplog.text
    assert sum("history_series_max" in r.getMessage() for r in caplog.records) == 1  # said once


def test_survives_a_restart(tmp_path):
    path = tmp_path / "h.sqlite"
    db = HistoryDB(path)
    db.open()
    m = int(time.time() // 60)
    db.write_many(generated(m - 10, 10))
    db.close()
    again = HistoryDB(path)
    again.open()
    assert again.names() == sorted(NAMES)
    assert len(again.buckets("memory.percent", (m - 10) * 60, m * 60, 60)) == 10
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path, caplog):
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is not an sqlite file at all\n" * 100)
    db = HistoryDB(path)
    with caplog.at_level(logging.ERROR, "server_monitor.history"):
        db.open()
    assert db.ready and len(db.moved_aside) == 1
    assert db.moved_aside[0].read_bytes().startswith(b"this is not")
    assert "is corrupt" in caplog.text and "moved aside" in caplog.text
    db.write_many(generated(int(time.time() // 60), 1))  # the fresh one works
    assert db.names() == sorted(NAMES)


def test_a_database_with_damaged_pages_is_moved_aside(tmp_path, caplog):
    path = tmp_path / "history.sqlite"
    db = HistoryDB(path)
    db.open()
    db.write_many(generated(int(time.time() // 60) - 3000, 3000))
    db.close()
    with sqlite3.connect(path) as c:  # fold the WAL in, so the damage is in the main file
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    for off in range(3 * page, len(data) - page, 7 * page):  # B-tree pages: garbage headers
        data[off:off + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    again = HistoryDB(path)
    with caplog.at_level(logging.ERROR, "server_monitor.history"):
        again.open()
    assert again.ready and again.moved_aside and "is corrupt" in caplog.text
    assert again.names() == []
    assert not math.isnan(again.size())


def test_a_database_that_cannot_be_opened_leaves_the_console_running(make_client, tmp_path, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where data_dir's parent should be\n")
    with caplog.at_level(logging.ERROR, "server_monitor.history"):
        client = make_client(data_dir=blocker / "state", tick=0.2)
        deadline = time.monotonic() + 5
        while client.app.state.history.error is None and time.monotonic() < deadline:
            time.sleep(0.05)
    db = client.app.state.history
    assert not db.ready and "cannot open" in db.error and not db.moved_aside
    assert "history is not recorded" in caplog.text
    body = client.get("/api/history").json()
    assert body["database"].startswith("cannot open") and body["stored"] == []
    page = client.get("/history", params={"range": "1h"})
    assert page.status_code == 200 and "cannot open" in page.text
    assert client.get("/api/history/at/now").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_a_file_that_cannot_be_made_private_is_not_used_and_not_left_open(tmp_path, monkeypatch):
    """Fault injection: the chmod to 0600 fails (tests run as root, who may always chmod). The
    database holds command lines and log lines, so it is not used; and the connection opened to
    it is closed, not leaked (monitor/history/dbfile.py)."""
    path = tmp_path / "history.sqlite"
    real_chmod = type(path).chmod

    def refuse(self, mode, **kwargs):
        if self == path:
            raise PermissionError(1, "Operation not permitted", str(self))
        return real_chmod(self, mode, **kwargs)
    monkeypatch.setattr(type(path), "chmod", refuse)
    db = HistoryDB(path)
    db.open()
    assert not db.ready and db.error.startswith(f"cannot open {path}") and "not permitted" in db.error
    open_files = {os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                  if os.path.exists(f"/proc/self/fd/{fd}")}
    assert not any(f.startswith(str(path)) for f in open_files), open_files


def test_two_writers_on_one_file_add_the_same_new_series(tmp_path):
    """Two consoles (or tests) sharing a data_dir: a name the other added since is no corruption."""
    path = tmp_path / "history.sqlite"
    a, b = HistoryDB(path), HistoryDB(path)
    a.open()
    b.open()
    m = int(time.time() // 60)
    a.write_many(generated(m - 2, 1, ["network.veth9.bytes_recv_per_s"]))
    b.write_many(generated(m - 1, 1, ["network.veth9.bytes_recv_per_s"]))  # b had not seen it
    assert not a.moved_aside and not b.moved_aside and not list(tmp_path.glob("*.corrupt-*"))
    assert len(a.buckets("network.veth9.bytes_recv_per_s", (m - 3) * 60, m * 60, 60)) == 2


CACHE_PROBE = """
import ctypes, json, sqlite3, sys, time
from pathlib import Path
from monitor.history.db import HistoryDB, Minute
# SQLite's own allocation counter, from the library this interpreter's sqlite3 module runs on
lib = next(line.split()[-1] for line in open("/proc/self/maps") if "libsqlite3" in line)
used = ctypes.CDLL(lib).sqlite3_memory_used
used.restype = ctypes.c_int64
db = HistoryDB(Path(sys.argv[1]), keep_days=30)
db.open()
names = [f"series{i}.percent" for i in range(60)]
last = int(time.time() // 60)
for day in range(3):  # three days of a busy host's minutes, then a day's chart of each series
    first = last - (3 - day) * 1440
    db.write_many([Minute(m, {n: (1.0, 2.0, 3.0, 60) for n in names}) for m in range(first, first + 1440)])
for n in names:
    db.buckets(n, (last - 1440) * 60, last * 60, 300)
print(json.dumps([used(), db.size()]))
"""


def test_the_page_cache_stays_small_while_the_file_grows(tmp_path):
    """SQLite's default cache (2 MB) fills as the file grows and stays resident; capped at
    128 KiB, what SQLite holds stays near that cap while the file is 8 MB (0.26 MiB measured;
    the 512 KiB cap held 0.65 MiB, the default 2.15)."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT
    r = subprocess.run([sys.executable, "-c", CACHE_PROBE, str(tmp_path / "history.sqlite")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    held, size = json.loads(r.stdout)
    assert size > 6 * 2**20  # the cache could have filled many times over
    assert 0 < held < 0.45 * 2**20, (held, size)
