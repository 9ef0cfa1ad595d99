"""History beyond the 15-minute ring: per-minute rollups in SQLite (db.py), written by the
recorder task (recorder.py), read by range queries (query.py) and moments (moment.py)."""
from __future__ import annotations

from pathlib import Path

from .db import HistoryDB

FILE = "history.sqlite"


def database(settings) -> HistoryDB:
    """The console's history database in data_dir (opened by the recorder, off the event loop)."""
    return HistoryDB(Path(settings.data_dir) / FILE, keep_days=settings.history_keep_days,
                     series_max=settings.history_series_max)
