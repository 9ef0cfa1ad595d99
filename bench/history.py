"""History database: 30-day size, rollup write cost, 7-day chart and 24-h page times (issue 15).

Usage: .venv/bin/python bench/history.py [--days 30] [--series N] [--runs 30]

1. Counts this host's history series: every default collector read twice, a second apart, and
   its ``series()`` names (what the recorder stores); --series overrides the count.
2. Fills a temporary data_dir's history.sqlite with --days of generated minutes for that many
   series (random walks; top processes and log counts as the recorder writes them), then prunes:
   the database size for 30 days on this host.
3. Rollup write cost: one live minute (every series, top lists, log counts) in one transaction,
   --runs times; reference: one bare one-row INSERT transaction on the same file.
4. A 7-day chart of one series: range query (monitor/history/query.py) + SVG render
   (views/history_charts.py); reference: a bare SELECT count(*) over the same 10,080 rows.
5. Six 24-h charts: the six queries + renders in process, and GET /history?range=24h from a real
   app (TestClient, every overview chart the host has) on the same database.
6. The recorder's cost on the event loop per snapshot (Accumulator.add over a real snapshot of
   every default area); reference: History.add of the same series (what each tick already does).
Targets: 7-day chart <= 50 ms, six 24-h charts <= 200 ms, a minute's write <= 5 ms.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.history.db import HistoryDB, Minute  # noqa: E402
from monitor.history.query import buckets, parse_range  # noqa: E402
from monitor.store import History  # noqa: E402
from views.history_charts import chart  # noqa: E402


def host_series() -> list[str]:
    from monitor.areas import default_collectors
    from monitor.settings import Settings
    collectors = default_collectors(Settings())
    names: set[str] = set()
    for round_ in range(2):
        for c in collectors:
            try:
                names |= set(c.series(c.collect(time.monotonic())))
            except Exception:  # noqa: BLE001 - an area this host cannot read has no series
                pass
        if round_ == 0:
            time.sleep(1.0)
    for c in collectors:
        getattr(c, "close", lambda: None)()
    return sorted(names)


def minute_of(m: int, names: list[str], walk: dict[str, float]) -> Minute:
    rollups = {}
    for n in names:
        v = walk[n] = max(0.0, min(100.0, walk[n] + random.uniform(-3, 3)))
        rollups[n] = (max(0.0, v - random.uniform(0, 5)), v, v + random.uniform(0, 5), 60)
    # Ten different processes a minute, with command lines of the length the console keeps.
    procs = [{"pid": 1000 + (m + i * 7) % 400, "started": 1.7e9 + i * 13.7, "name": f"worker{i}",
              "command": f"/usr/bin/worker{i} --config /etc/worker/{i}.toml --threads {i + 2} "
                         f"--listen 127.0.0.1:{8000 + i} --log /var/log/worker{i}.log",
              "cpu_percent": random.uniform(0, 100), "rss": random.randrange(1 << 20, 1 << 32),
              "unit": f"worker{i}.service"} for i in range(10)]
    return Minute(m, rollups, top={"cpu": procs[:5], "memory": procs[5:]},
                  logs={"counts": {"syslog": 1, "journal": 0}, "lines": []}, verdicts=[])


def ms(f, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--series", type=int, default=None)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    names = host_series()
    print(f"this host's history series: {len(names)}")
    if args.series:
        names = (names + [f"bench.extra{i}.percent" for i in range(args.series)])[:args.series]
    data_dir = Path(tempfile.mkdtemp(prefix="bench-history-"))
    db = HistoryDB(data_dir / "history.sqlite", keep_days=args.days, series_max=max(500, len(names)))
    db.open()
    now = time.time()
    last = int(now // 60) - 1
    walk = {n: 30.0 for n in names}
    t0 = time.perf_counter()
    first = last - args.days * 1440 + 1
    for day in range(args.days):
        db.write_many(minute_of(m, names, walk) for m in range(first + day * 1440, first + (day + 1) * 1440))
    fill = time.perf_counter() - t0
    db.prune(now)
    size = db.size()
    rows = args.days * 1440 * len(names)
    print(f"filled {args.days} d x {len(names)} series = {rows} rollups in {fill:.1f} s")
    print(f"database size for {args.days} days: {size / 2**20:.1f} MiB ({size / rows:.1f} B per rollup)")

    # 3. one live minute, as the recorder writes it
    future = iter(range(last + 1, last + 1 + args.runs))
    write = ms(lambda: db.write(minute_of(next(future), names, walk)), args.runs)
    bare = sqlite3.connect(data_dir / "bare.sqlite", isolation_level=None)
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute("PRAGMA synchronous=NORMAL")
    bare.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v REAL)")
    keys = iter(range(10**9))

    def bare_insert() -> None:
        bare.execute("BEGIN")
        bare.execute("INSERT INTO t VALUES (?, 1.0)", (next(keys),))
        bare.execute("COMMIT")
    ref_write = ms(bare_insert, args.runs)
    print(f"rollup write per minute: {write:.2f} ms (target <= 5); bare 1-row INSERT transaction "
          f"{ref_write:.2f} ms; ratio {write / ref_write:.1f}x")

    # 4. a 7-day chart of one series
    ring = History(900)
    name = "cpu.percent" if "cpu.percent" in names else names[0]
    week = parse_range("7d", None, None, now=now)

    def week_chart() -> None:
        _, found = buckets(ring, db, name, week, 900, now)
        chart(name, found, week.since, week.until, week.step)
    week_ms = ms(week_chart, args.runs)
    sid = db._ids[name]
    ref = sqlite3.connect(db.path)
    ref_ms = ms(lambda: ref.execute("SELECT count(*) FROM rollup WHERE series = ? AND minute BETWEEN ? AND ?",
                                    (sid, int(week.since // 60), int(week.until // 60))).fetchone(), args.runs)
    print(f"7-day chart of one series (query + SVG): {week_ms:.1f} ms (target <= 50); bare SELECT "
          f"count(*) over its 10080 rows {ref_ms:.2f} ms; ratio {week_ms / ref_ms:.1f}x")

    # 5. six 24-h charts, in process and as a page
    day = parse_range("24h", None, None, now=now)
    six = names[:6] if "cpu.percent" not in names else [name, *[n for n in names if n != name][:5]]

    def six_charts() -> None:
        for n in six:
            _, found = buckets(ring, db, n, day, 900, now)
            chart(n, found, day.since, day.until, day.step)
    six_ms = ms(six_charts, args.runs)
    print(f"six 24-h charts (query + SVG): {six_ms:.1f} ms (target <= 200); "
          f"ratio to six bare SELECTs {six_ms / (6 * ref_ms / 7):.1f}x")
    db.close()
    page(data_dir, args.runs)
    per_tick(max(200, args.runs * 10))


def page(data_dir: Path, runs: int) -> None:
    from fastapi.testclient import TestClient

    from main import create_app
    from monitor.settings import Settings
    app = create_app(Settings(data_dir=data_dir, token="bench-token-0123456789abcdef"))
    headers = {"Authorization": "Bearer bench-token-0123456789abcdef"}
    with TestClient(app, base_url="http://127.0.0.1", headers=headers) as c:
        deadline = time.monotonic() + 10
        while not app.state.history.ready and time.monotonic() < deadline:
            time.sleep(0.05)
        n = c.get("/history?range=24h").text.count('class="hchart"')
        page_ms = ms(lambda: c.get("/history?range=24h"), max(5, runs // 3))
        ref_ms = ms(lambda: c.get("/healthz"), max(5, runs // 3))
    print(f"GET /history?range=24h ({n} charts): {page_ms:.1f} ms; GET /healthz {ref_ms:.2f} ms; "
          f"ratio {page_ms / ref_ms:.0f}x")


def per_tick(runs: int) -> None:
    import asyncio

    from monitor.areas import default_collectors
    from monitor.history.recorder import Accumulator
    from monitor.sampler import Sampler, Store
    from monitor.settings import Settings
    collectors = default_collectors(Settings())
    store = Store(100)

    async def two_ticks():
        sampler = Sampler(store, collectors, 1.0, 5.0)
        await sampler.sample_once()
        await asyncio.sleep(1.0)
        await sampler.sample_once()
        sampler.close()
    asyncio.run(two_ticks())
    snap = store.latest
    acc, seen = Accumulator(0), set()
    add_ms = ms(lambda: acc.add(snap, collectors, seen), runs)
    series = {}
    for c in collectors:
        if c.name in snap.areas:
            series.update(c.series(snap.areas[c.name]))
    ring = History(900)
    ring_ms = ms(lambda: ring.add(snap.taken_at, series), runs)
    finish_ms = ms(lambda: acc.finish({}), 20)
    print(f"recorder per snapshot on the loop: {add_ms * 1000:.0f} us; History.add of the same "
          f"{len(series)} series {ring_ms * 1000:.0f} us; ratio {add_ms / ring_ms:.1f}x; "
          f"finishing a minute (worker thread, /proc reads for units) {finish_ms:.2f} ms")


if __name__ == "__main__":
    main()
