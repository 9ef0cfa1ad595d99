"""What the history database stores: its schema, one ``Minute`` as the recorder hands it over,
and the compressed JSON of the per-minute records (monitor/history/db.py)."""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS rollup (
    series INTEGER NOT NULL, minute INTEGER NOT NULL,
    min REAL NOT NULL, mean REAL NOT NULL, max REAL NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (series, minute)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS minute (
    minute INTEGER PRIMARY KEY, top BLOB, logs BLOB, verdicts BLOB);
"""


@dataclass
class Minute:
    """One minute's rollups and what happened in it, as the recorder hands it to ``write``."""
    minute: int  # epoch minute
    rollups: dict[str, tuple[float, float, float, int]]  # name -> (min, mean, max, samples)
    top: dict = field(default_factory=dict)  # {"cpu": [process, ...], "memory": [...]}
    logs: dict = field(default_factory=dict)  # {"counts": {source: n}, "lines": [...]}
    verdicts: list = field(default_factory=list)  # verdicts not ok at some tick of the minute


class HistoryUnavailable(RuntimeError):
    """The database is not open (still opening, or it could not be created)."""


def dump(value) -> bytes:
    """JSON, zlib-compressed: ten top processes with command lines are ~2 KiB a minute, which
    plain would spill into half-empty overflow pages (177 MB for 30 days measured, 4x less so)."""
    return zlib.compress(json.dumps(value, separators=(",", ":"), allow_nan=False).encode(), 6)


def load(blob: bytes | None):
    try:
        return json.loads(zlib.decompress(blob)) if blob else None
    except (ValueError, zlib.error):
        return None
