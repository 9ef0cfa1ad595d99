"""The history database's file (monitor/history/db.py uses it): one connection opened with our
settings and checked, a corrupt file moved aside so that a fresh one can be started, and its
size on disk.
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from .records import SCHEMA

CACHE_KIB = 128  # the connection's page cache, at most


def connect(path: Path, check: bool) -> tuple[sqlite3.Connection, dict[str, int]]:
    """The open connection and the stored series (name -> id). ``check`` runs SQLite's
    quick_check first: a damaged file raises DatabaseError, as one that is not a database does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        # SQLite's default page cache (2 MB) fills within days and stays: RSS for pages read
        # once. The hot set is each series' newest leaf page (one write a minute) and a
        # chart's range is read once. 512 KiB filled within the first ten minutes of a new
        # console (0.4 MiB of its RSS growth, issue 19); pages beyond 128 KiB are read again
        # from the kernel's file cache, a pread each (bench/history.py's figures unchanged).
        db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        if check:
            found = db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if found != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {found}")
        db.executescript(SCHEMA)
        ids = dict(db.execute("SELECT name, id FROM series"))
        path.chmod(0o600)  # command lines and log lines: the console's user only
    except BaseException:
        db.close()
        raise
    return db, ids


def move_aside(path: Path) -> Path:
    """Rename the file (and its -wal and -shm) to ``<name>.corrupt-<epoch>``; OSError if it cannot."""
    aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
    path.replace(aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.replace(aside.with_name(aside.name + suffix))
    return aside


def size(path: Path) -> int:
    """Bytes on disk: the file and its write-ahead log."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def corrupt(exc: sqlite3.DatabaseError) -> bool:
    """Whether an error means the file is damaged (move it aside), not a passing or logical one
    (locked, read-only, a constraint): only those exact messages, or DatabaseError itself."""
    text = str(exc).lower()
    return type(exc) is sqlite3.DatabaseError or "malformed" in text or "not a database" in text
