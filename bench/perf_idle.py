"""What the console costs its host (issue 19): idle, 1 and 20 displays, RSS, requests vs the floor.

usage: .venv/bin/python bench/perf_idle.py [--seconds 60] [--minutes 0] [--wrk-seconds 10]
                                           [--tree NAME=PATH ...] [--no-requests]

Every console (this tree, plus any other checkout given with --tree, e.g. the commit before a
change exported with ``git archive``) runs side by side on loopback, each with its own empty
data dir, the default 1 s tick, judging, history and the logs area on, as ``python main.py``
runs. Over the same ``--seconds`` windows it prints each console's CPU (utime+stime from
/proc/<pid>/stat, % of one core) with no viewer, with one SSE display and with 20, and its RSS;
each CPU column is followed by the main thread's share of it (``main %``: the event loop, where
the views and streams run; collectors and the judge have threads of their own);
``--minutes`` keeps one display open that long first and prints the RSS after it. Then, one
server at a time, wrk with 10 connections on /api/cpu and /api/memory, access log on and off,
next to bench/bare_app.py (no middleware, same uvicorn) returning a JSON body of the same size:
``/json/N`` (a dict serialised per request, plain FastAPI) and ``/bytes/N`` (bytes made once).
Ratios are against references measured in this run; the machine's load is printed with them.
Needs wrk (apt-get install wrk). Nothing here is a test; CI does not run it.

Sample (2 cores, 2026-12-08, ``--seconds 120 --minutes 10 --no-requests --tree "before
(3e3d94c)=<git archive of 3e3d94c>"``, load average 0.57 at the start; absolute figures move by
0.1-0.2 % from run to run and the two consoles' ratio by about 5 %, so a change worth less than
that needs its own figures per read; the RSS is read at the end, after 10 minutes of one display
and the three windows):
                        idle %  idle main %  1 display %  1 main %  20 displays %  20 main %  RSS MiB @16min
    this tree             0.51         0.15         0.81      0.38           1.04       0.58          59.98
    before (3e3d94c)      0.52         0.16         0.78      0.36           1.03       0.56          62.10
The requests part (2026-12-03, ``--seconds 60 --minutes 10``, before the main-thread columns):
    endpoint                                req/s   p50 ms   p99 ms  non-2xx  ÷ json ÷ bytes
    bare /json/528                           6582     1.41     2.38        0
    this tree /api/cpu                       8024     1.21     3.52        0    1.22    1.42
    this tree /api/cpu (no access log)       8596     1.16     2.86        0    1.19    1.16
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _server import free_port, stop  # noqa: E402
from bench_api import wrk  # noqa: E402
from bench_sse import run_clients  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
# The console with its access log silenced: the same LOGGING dict main() applies, one level up.
QUIET = ("import sys, monitor.logconfig as c; "
         "c.LOGGING['loggers']['uvicorn.access']['level'] = 'WARNING'; "
         "import main; main.main(sys.argv[1:])")


def cpu_seconds(pid: int, main_thread: bool = False) -> float:
    """utime + stime of the process, or of its main thread alone (the event loop: the views, the
    SSE streams, the tick's bookkeeping; the collectors and the judge run in other threads)."""
    path = f"/proc/{pid}/task/{pid}/stat" if main_thread else f"/proc/{pid}/stat"
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime, stime


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server for {url} did not come up")


def start_tree(path: Path, port: int, data: Path, access_log: bool = True) -> subprocess.Popen:
    args = ["main.py"] if access_log else ["-c", QUIET]
    env = {**os.environ, "SERVER_MONITOR_ANONYMOUS": "full", "SERVER_MONITOR_DATA_DIR": str(data),
           "PYTHONPATH": str(path)}
    proc = subprocess.Popen([sys.executable, *args, "--host", "127.0.0.1", "--port", str(port)],
                            cwd=path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_up(f"http://127.0.0.1:{port}/healthz", proc)
    return proc


def window(pids: dict[str, int], seconds: float) -> dict[str, tuple[float, float]]:
    """% of one core each process used over the same window: in all, and its main thread."""
    def now() -> dict[str, tuple[float, float]]:
        return {n: (cpu_seconds(p), cpu_seconds(p, main_thread=True)) for n, p in pids.items()}
    t0, c0 = time.monotonic(), now()
    time.sleep(seconds)
    dt, c1 = time.monotonic() - t0, now()
    return {n: tuple((c1[n][i] - c0[n][i]) / dt * 100 for i in (0, 1)) for n in pids}


def displays(ports: dict[str, int], n: int, seconds: float) -> list[mp.Process]:
    procs = []
    for port in ports.values():
        q: mp.Queue = mp.Queue()
        p = mp.Process(target=run_clients, args=(port, n, seconds, q), daemon=True)
        p.start()
        procs.append(p)
    return procs


def body_size(port: int, path: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return len(r.read())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60, help="each CPU window")
    ap.add_argument("--minutes", type=float, default=0, help="one display this long, then RSS")
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                    help="another checkout to run side by side (e.g. the commit before a change)")
    ap.add_argument("--no-requests", action="store_true", help="skip the wrk part")
    args = ap.parse_args()
    if not args.no_requests and not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    trees = {"this tree": BENCH.parent}
    trees.update({n: Path(p).resolve() for n, p in (t.split("=", 1) for t in args.tree)})
    tmp = Path(tempfile.mkdtemp(prefix="perf_idle."))
    ports = {n: free_port() for n in trees}
    servers = {n: start_tree(p, ports[n], tmp / f"data{i}") for i, (n, p) in enumerate(trees.items())}
    pids = {n: s.pid for n, s in servers.items()}
    rows: dict[str, dict[str, float]] = {n: {} for n in trees}
    try:
        time.sleep(10)  # first ticks, history database created, process table warm
        print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        for n, (v, main_v) in window(pids, args.seconds).items():
            rows[n]["idle %"], rows[n]["idle main %"] = v, main_v
        for count in (1, 20):
            clients = displays(ports, count, args.seconds + 6)
            time.sleep(3)  # connections settle
            for n, (v, main_v) in window(pids, args.seconds).items():
                rows[n][f"{count} display{'s' * (count > 1)} %"] = v
                rows[n][f"{count} main %"] = main_v
            for c in clients:
                c.join(15)
        if args.minutes:
            clients = displays(ports, 1, args.minutes * 60)
            for c in clients:
                c.join(args.minutes * 60 + 15)
        for n, pid in pids.items():
            rows[n][f"RSS MiB @{(time.monotonic() - t_start) / 60:.0f}min"] = rss_mib(pid)
    finally:
        if args.no_requests:
            for s in servers.values():
                stop(s)
    names = list(next(iter(rows.values())))
    print(f"{'':<22}" + "".join(f"{n:>16}" for n in names))
    for tree, r in rows.items():
        print(f"{tree:<22}" + "".join(f"{r[k]:>16.2f}" for k in names))
    if len(rows) > 1:
        base = list(rows)[-1]
        for tree in list(rows)[:-1]:
            print(f"{tree} / {base:<12}" + "".join(
                f"{rows[tree][k] / rows[base][k] if rows[base][k] else float('nan'):>16.2f}" for k in names))
    if args.no_requests:
        return
    requests(args, trees, servers, ports, tmp)


def requests(args, trees, servers, ports, tmp) -> None:
    """wrk on each console in turn (the others stopped: one saturating server at a time)."""
    sizes = {path: body_size(next(iter(ports.values())), path) for path in ("/api/cpu", "/api/memory")}
    for s in servers.values():
        stop(s)
    results: dict[str, dict] = {}

    def run(label: str, url: str) -> None:
        wrk(url, 2, 10)  # warm-up
        results[label] = wrk(url, args.wrk_seconds, 10)

    for log in (True, False):
        suffix = "" if log else " (no access log)"
        port = free_port()
        bare = subprocess.Popen([sys.executable, str(BENCH / "bare_app.py"), str(port),
                                 *([] if log else ["--no-access-log"])],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_up(f"http://127.0.0.1:{port}/hello", bare)
        try:
            for path, size in sizes.items():
                run(f"bare /json/{size}{suffix}", f"http://127.0.0.1:{port}/json/{size}")
                run(f"bare /bytes/{size}{suffix}", f"http://127.0.0.1:{port}/bytes/{size}")
        finally:
            stop(bare)
        for i, (tree, path) in enumerate(trees.items()):
            port = free_port()
            server = start_tree(path, port, tmp / f"wrk{i}{int(log)}", access_log=log)
            try:
                time.sleep(2)
                for api in sizes:
                    run(f"{tree} {api}{suffix}", f"http://127.0.0.1:{port}{api}")
            finally:
                stop(server)
    print(f"\nwrk, 10 connections, {args.wrk_seconds} s; bodies: "
          + ", ".join(f"{p} {s} B" for p, s in sizes.items()))
    print(f"{'endpoint':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} "
          f"{'÷ json':>7} {'÷ bytes':>7}")
    for label, r in results.items():
        ratio = ""
        for api, size in sizes.items():
            if f" {api}" in label:
                suffix = " (no access log)" if "no access log" in label else ""
                js = results[f"bare /json/{size}{suffix}"]["rps"]
                by = results[f"bare /bytes/{size}{suffix}"]["rps"]
                ratio = f" {r['rps'] / js:>7.2f} {r['rps'] / by:>7.2f}"
        print(f"{label:<44} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['non2xx']:>8}{ratio}")


t_start = time.monotonic()

if __name__ == "__main__":
    main()
