"""The history database: per-minute rollups of every history series, kept for days, in SQLite.

    data_dir/history.sqlite   (WAL; synchronous=NORMAL: a power cut may lose the last minute,
                               never the file; a `kill -9` loses nothing already committed)

Tables (times are epoch *minutes*, ``minute * 60`` is the minute's first second):

    series(id, name)                                 one row per history name (``cpu.percent``)
    rollup(series, minute, min, mean, max, n)        PRIMARY KEY (series, minute), WITHOUT ROWID:
                                                     a range of one series is one index range
    minute(minute, top, logs, verdicts)              per minute, zlib-compressed JSON: the top
                                                     processes by CPU and memory, error lines per
                                                     log source and the lines themselves, the
                                                     verdicts not ok

One ``write(Minute)`` is one transaction; the recorder (monitor/history/recorder.py) calls it once
a minute from a worker thread. Pruning deletes, per series, the minutes older than ``keep_days``
(the primary key's range, so no second index is needed). ``series_max`` caps the number of
series: a name beyond it is not stored, counted in ``dropped`` and logged once.

A file that is not a database, or one SQLite finds malformed (at open, by ``quick_check``, or
later at any statement) is renamed ``history.sqlite.corrupt-<epoch>`` with one error line in the
log, and a fresh database is started: history is worth less than a console that keeps running.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from . import dbfile
from .records import HistoryUnavailable, Minute, dump, load

__all__ = ["HistoryDB", "HistoryUnavailable", "Minute"]

log = logging.getLogger("server_monitor.history")

PRUNE_EVERY = 3600  # seconds between two prunes (and at open)


class HistoryDB:
    def __init__(self, path: Path, keep_days: int = 30, series_max: int = 500) -> None:
        self.path = path
        self.keep_days = keep_days
        self.series_max = series_max
        self.dropped: set[str] = set()  # names not stored because of series_max (bounded below)
        self.moved_aside: list[Path] = []  # corrupt files renamed since start
        self.error: str | None = None  # why the database cannot be used, if it cannot
        self._db: sqlite3.Connection | None = None
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()  # one connection, used from worker threads
        self._pruned = 0.0

    # --- opening and recovery ---------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self._db is not None

    def open(self) -> None:
        """Open (or create) the file; a corrupt one is moved aside and a fresh one created. One
        that cannot be opened at all (no such directory, read-only, locked) stays unused, said
        once in the log and in ``error``: the console runs on without history."""
        with self._lock:
            try:
                self._connect(check=True)
            except (OSError, sqlite3.OperationalError) as exc:
                self.error = f"cannot open {self.path}: {exc}"
                log.error("history: %s; history is not recorded", self.error)
                return
            except sqlite3.DatabaseError as exc:  # not a database, malformed, quick_check failed
                self._recover(exc)
            self._prune_locked(time.time())

    def _connect(self, check: bool) -> None:
        self._db, self._ids = dbfile.connect(self.path, check)
        self.error = None

    def _recover(self, exc: Exception) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        try:
            aside = dbfile.move_aside(self.path)
        except OSError as move:
            self.error = f"{self.path} is corrupt ({exc}) and cannot be moved aside: {move}"
            log.error("history: %s; history is not recorded", self.error)
            return
        self.moved_aside.append(aside)
        log.error("history: %s is corrupt (%s); moved aside to %s, starting a new one",
                  self.path, exc, aside)
        try:
            self._connect(check=False)
        except sqlite3.Error as again:
            self.error = f"cannot create {self.path}: {again}"
            log.error("history: %s", self.error)

    def _run(self, work):
        """``work(db)`` under the lock; a malformed database is recovered (and re-raised as
        unavailable), other SQLite errors are unavailable too: never a 500 from a view."""
        with self._lock:
            if self._db is None:
                raise HistoryUnavailable(self.error or "the history database is still opening")
            try:
                return work(self._db)
            except sqlite3.DatabaseError as exc:
                if dbfile.corrupt(exc):
                    self._recover(exc)
                raise HistoryUnavailable(f"history database error: {exc}") from None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # --- writing ------------------------------------------------------------------------------
    def write(self, m: Minute) -> None:
        """One minute in one transaction (rows already there for that minute are replaced)."""
        self.write_many([m])

    def write_many(self, minutes: Iterable[Minute]) -> None:
        """Minutes in one transaction: the recorder passes one a minute; tests and the benchmark
        fill days at once."""
        def work(db: sqlite3.Connection) -> None:
            db.execute("BEGIN")
            try:
                for m in minutes:
                    self._insert(db, m)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                self._ids = dict(db.execute("SELECT name, id FROM series"))  # new ids rolled back
                raise
            if time.time() - self._pruned >= PRUNE_EVERY:
                self._prune_locked(time.time())
        self._run(work)

    def _insert(self, db: sqlite3.Connection, m: Minute) -> None:
        rows = []
        for name, (lo, mean, hi, n) in m.rollups.items():
            sid = self._id(db, name)
            if sid is not None:
                rows.append((sid, m.minute, lo, mean, hi, n))
        db.executemany("INSERT OR REPLACE INTO rollup VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.execute("INSERT OR REPLACE INTO minute VALUES (?, ?, ?, ?)",
                   (m.minute, dump(m.top), dump(m.logs), dump(m.verdicts)))

    def _id(self, db: sqlite3.Connection, name: str) -> int | None:
        sid = self._ids.get(name)
        if sid is not None:
            return sid
        if len(self._ids) >= self.series_max:
            if name not in self.dropped and len(self.dropped) < 10 * self.series_max:
                if not self.dropped:
                    log.warning("history: %d series stored, the limit (history_series_max); "
                                "%r and later new series are not stored", self.series_max, name)
                self.dropped.add(name)
            return None
        # OR IGNORE: another process on the same data_dir (a second console, a test) may have
        # added the name since this one read the table.
        db.execute("INSERT OR IGNORE INTO series (name) VALUES (?)", (name,))
        sid = db.execute("SELECT id FROM series WHERE name = ?", (name,)).fetchone()[0]
        self._ids[name] = sid
        return sid

    def prune(self, now: float | None = None) -> None:
        with self._lock:
            self._prune_locked(time.time() if now is None else now)

    def _prune_locked(self, now: float) -> None:
        """Minutes older than keep_days go, per series (a primary-key range each); series with
        no minute left go too, so vanished interfaces free their place under series_max."""
        db = self._db
        if db is None:
            return
        oldest = int(now // 60) - self.keep_days * 1440
        db.execute("BEGIN")
        for sid in list(self._ids.values()):
            db.execute("DELETE FROM rollup WHERE series = ? AND minute < ?", (sid, oldest))
        db.execute("DELETE FROM minute WHERE minute < ?", (oldest,))
        db.execute("DELETE FROM series WHERE NOT EXISTS "
                   "(SELECT 1 FROM rollup WHERE rollup.series = series.id)")
        db.execute("COMMIT")
        self._ids = dict(db.execute("SELECT name, id FROM series"))
        self._pruned = now

    # --- reading ------------------------------------------------------------------------------
    def dropped_names(self, limit: int = 100) -> list[str]:
        """Series not stored because of series_max, sorted (read under the lock: a write may be
        adding to the set in a worker thread)."""
        with self._lock:
            return sorted(self.dropped)[:limit]

    def names(self) -> list[str]:
        return self._run(lambda db: [n for (n,) in db.execute("SELECT name FROM series ORDER BY name")])

    def last_minute(self) -> int | None:
        return self._run(lambda db: db.execute("SELECT max(minute) FROM minute").fetchone()[0])

    def buckets(self, name: str, since: float, until: float, step: int
                ) -> list[tuple[float, float, float, float, int]]:
        """(t, mean, min, max, samples) for each evaluation time t = since + k*step <= until that has
        minutes in (t - step, t] (Prometheus range-query alignment); the mean is weighted by
        samples. A minute counts at its first second."""
        lo_min = int((since - step) // 60) + 1
        hi_min = int(until // 60)

        def work(db: sqlite3.Connection):
            sid = self._ids.get(name)
            if sid is None:
                return []
            sql = ("SELECT (minute * 60 - :since + :step - 1) / :step AS k, "
                   "sum(mean * n) / sum(n), min(min), max(max), sum(n) FROM rollup "
                   "WHERE series = :sid AND minute BETWEEN :lo AND :hi GROUP BY k ORDER BY k")
            rows = db.execute(sql, {"since": int(since), "step": step, "sid": sid,
                                    "lo": lo_min, "hi": hi_min}).fetchall()
            return [(since + k * step, mean, lo, hi, n) for k, mean, lo, hi, n in rows
                    if since + k * step <= until]
        return self._run(work)

    def peak_minute(self, name: str, first: int, last: int) -> int | None:
        """The minute from ``first`` to ``last`` with the highest mean of ``name`` (a chart
        point of many minutes opens the minute of its peak)."""
        def work(db: sqlite3.Connection):
            sid = self._ids.get(name)
            if sid is None:
                return None
            row = db.execute("SELECT minute FROM rollup WHERE series = ? AND minute BETWEEN ? AND ? "
                             "ORDER BY mean DESC, minute LIMIT 1", (sid, first, last)).fetchone()
            return row[0] if row else None
        return self._run(work)

    def minutes(self, first: int, last: int) -> list[dict]:
        """The per-minute records (top, logs, verdicts) from ``first`` to ``last``, oldest first."""
        def work(db: sqlite3.Connection):
            rows = db.execute("SELECT minute, top, logs, verdicts FROM minute "
                              "WHERE minute BETWEEN ? AND ? ORDER BY minute", (first, last))
            return [{"minute": m, "top": load(t), "logs": load(lg), "verdicts": load(v)}
                    for m, t, lg, v in rows]
        return self._run(work)

    def means(self, first: int, last: int) -> dict[str, tuple[float, int]]:
        """name -> (mean over the minutes first..last, minutes with data); one primary-key range
        per series."""
        def work(db: sqlite3.Connection):
            out = {}
            for name, sid in self._ids.items():
                v, c = db.execute("SELECT sum(mean * n) / sum(n), count(*) FROM rollup "
                                  "WHERE series = ? AND minute BETWEEN ? AND ?",
                                  (sid, first, last)).fetchone()
                if c:
                    out[name] = (v, c)
            return out
        return self._run(work)

    def size(self) -> int:
        return dbfile.size(self.path)
