"""The recorder: turns the sampler's snapshots into one ``Minute`` a minute for the database.

It is its own asyncio task (main.py's lifespan starts it), a reader of the Store like an SSE
client: it waits with ``Store.wait_newer``, so it never runs inside the tick and never holds it,
and a slow write only makes it skip snapshots (their minute keeps the ones it saw). Per snapshot
it only updates a few dicts in memory (min, sum, max, count per series; the busiest processes;
new error lines); when a snapshot of a new minute arrives, the finished minute is written in one
transaction in a worker thread (``asyncio.to_thread``), at most one write at a time. At shutdown
the minute in progress is written too, so a restart loses nothing but the seconds since.

Series values are the snapshot's ``series`` (each collector's ``series(data)``, made by the
sampler for the rings), so the database and the live sparklines use the same names and numbers.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from ..store import Snapshot, Store
from .db import HistoryDB, HistoryUnavailable, Minute

log = logging.getLogger("server_monitor.history")

TOP_KEPT = 5  # processes per minute, by CPU and by memory
LINES_KEPT = 20  # error lines per minute (the count per source is exact; lines are a sample)
RANK = {"ok": 0, "unknown": 1, "warning": 2, "critical": 3}


class Accumulator:
    """What one minute has seen so far. ``add`` is cheap: it runs on the event loop per tick."""

    def __init__(self, minute: int) -> None:
        self.minute = minute
        self.series: dict[str, list[float]] = {}  # name -> [min, sum, max, n]
        self.procs: dict[tuple[int, float], dict] = {}  # (pid, started) -> busiest reading
        self.totals_first: dict[str, int] = {}  # log source -> its error total at the first tick
        self.totals_last: dict[str, int] = {}
        self.lines: dict[tuple, dict] = {}  # error lines first seen this minute (ordered)
        self.verdicts: dict[str, dict] = {}  # key -> the worst not-ok verdict of the minute

    def add(self, snap: Snapshot, seen_lines: set) -> None:
        # The series the sampler made for the rings (snap.series), not each collector's
        # series() again here on the event loop.
        for name, v in snap.series.items():
            v = float(v)
            if not math.isfinite(v):
                continue
            acc = self.series.get(name)
            if acc is None:
                self.series[name] = [v, v, v, 1]
            else:
                acc[0] = min(acc[0], v)
                acc[1] += v
                acc[2] = max(acc[2], v)
                acc[3] += 1
        self._processes(snap.areas.get("processes"))
        self._logs(snap.areas.get("logs"), seen_lines)
        for v in snap.verdicts:
            state = getattr(v, "state", "ok")
            if state == "ok":
                continue
            old = self.verdicts.get(v.key)
            if old is None or RANK.get(state, 0) > RANK.get(old["state"], 0):
                self.verdicts[v.key] = {"check": v.check, "subject": v.subject, "area": v.area,
                                        "state": state, "value": v.value, "unit": v.unit,
                                        "reason": v.reason, "at": snap.taken_at}

    def _processes(self, procs) -> None:
        if procs is None:
            return
        for r in (*getattr(procs, "top_cpu", ()), *getattr(procs, "top_memory", ())):
            key = (r.pid, r.create_time)
            old = self.procs.get(key)
            if old is None:
                self.procs[key] = {"pid": r.pid, "started": r.create_time, "name": r.name,
                                   "command": _short(r.command), "cpu_percent": r.cpu_percent,
                                   "rss": r.rss}
            else:
                old["cpu_percent"] = _max(old["cpu_percent"], r.cpu_percent)
                old["rss"] = _max(old["rss"], r.rss)

    def _logs(self, logs, seen_lines: set) -> None:
        if logs is None:
            return
        for s in logs.sources:
            self.totals_first.setdefault(s.name, s.total)
            self.totals_last[s.name] = s.total
        for line in logs.recent:
            key = (line.time, line.source, line.message)
            if key in seen_lines:
                continue
            seen_lines.add(key)
            if len(self.lines) < LINES_KEPT:
                self.lines[key] = {"time": line.time, "source": line.source,
                                   "level": line.level_name, "message": line.message}

    def finish(self, previous_totals: dict[str, int]) -> Minute:
        """The minute as written. A source's count is its total's growth since the last tick of
        the minute before (or this minute's first tick, when there is none)."""
        from ..health import unit_of_pid  # reads /proc: only ever called in the worker thread
        rollups = {n: (lo, s / k, hi, int(k)) for n, (lo, s, hi, k) in self.series.items()}
        procs = list(self.procs.values())
        top = {"cpu": sorted((p for p in procs if p["cpu_percent"] is not None),
                             key=lambda p: -p["cpu_percent"])[:TOP_KEPT],
               "memory": sorted((p for p in procs if p["rss"] is not None),
                                key=lambda p: -p["rss"])[:TOP_KEPT]}
        for p in {id(p): p for p in (*top["cpu"], *top["memory"])}.values():
            p["unit"] = unit_of_pid(p["pid"])
        counts = {name: max(0, last - previous_totals.get(name, self.totals_first[name]))
                  for name, last in self.totals_last.items()}
        return Minute(self.minute, rollups, top,
                      {"counts": counts, "lines": list(self.lines.values())},
                      sorted(self.verdicts.values(), key=lambda v: (-RANK.get(v["state"], 0), v["check"])))


class Recorder:
    """``await Recorder(store, db).start()`` … ``await recorder.stop()``."""

    def __init__(self, store: Store, db: HistoryDB) -> None:
        self.store, self.db = store, db
        self.acc: Accumulator | None = None
        self.totals: dict[str, int] = {}  # log source totals at the end of the last minute
        self.seen_lines: set = set()  # error lines already counted (the area repeats its recent)
        self.task: asyncio.Task | None = None
        self.writing: asyncio.Future | None = None
        self.written = 0  # minutes written since start
        self.write_seconds = 0.0  # their total cost in the worker thread

    def start(self) -> Recorder:
        self.task = asyncio.create_task(self.run(), name="history-recorder")
        return self

    async def run(self) -> None:
        await asyncio.to_thread(self.db.open)
        if not self.db.ready:  # said once by db.open(); nothing to record into
            return
        seq = -1
        while True:
            snap = await self.store.wait_newer(seq)
            seq = snap.seq
            minute = int(snap.taken_at // 60)
            if self.acc is not None and minute != self.acc.minute:
                await self._flush()
            if self.acc is None:
                self.acc = Accumulator(minute)
            self.acc.add(snap, self.seen_lines)

    async def _flush(self) -> None:
        acc, self.acc = self.acc, None
        if acc is None:
            return
        if self.writing is not None:  # the previous minute's write (a minute ago) first
            with contextlib.suppress(Exception):
                await self.writing
        totals, self.totals = self.totals, {**self.totals, **acc.totals_last}
        if len(self.seen_lines) > 10_000:  # bounded: keep only what the area can still repeat
            self.seen_lines = set(acc.lines)
        self.writing = asyncio.ensure_future(asyncio.to_thread(self._write, acc, totals))

    def _write(self, acc: Accumulator, totals: dict[str, int]) -> None:
        import time
        t0 = time.perf_counter()
        try:
            self.db.write(acc.finish(totals))
        except HistoryUnavailable as exc:
            log.warning("history: minute %d not written: %s", acc.minute, exc)
            return
        self.written += 1
        self.write_seconds += time.perf_counter() - t0

    async def stop(self) -> None:
        """Cancel the task, then write the minute in progress and close the database."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.db.ready:
            await self._flush()
        if self.writing is not None:
            with contextlib.suppress(Exception):
                await self.writing
        await asyncio.to_thread(self.db.close)


def _max(a, b):
    if a is None:
        return b
    return a if b is None else max(a, b)


def _short(command: str | None) -> str | None:
    from ..health import _short as short  # the same cut as the events' culprits
    return short(command)
