"""What notifications cost in memory: a console without channels against one with a channel.

usage: .venv/bin/python bench/notify_rss.py [--settle 8] [--rounds 3]

Starts a console with no channel (Apprise is never imported), then one with a json:// channel
(Apprise, requests, markdown imported when the channel is built at start), each alone, lets it
run ``--settle`` seconds, and reads its RSS from /api/console (and whether apprise is loaded,
from /proc/PID/maps: its package directory). Prints both, the difference and the ratio, the
median over ``--rounds``. Figures go in the issue's note; not a test.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import free_port, start_console, stop  # noqa: E402


def measure(env: dict, settle: float) -> tuple[int, bool]:
    port = free_port()
    proc = start_console(port, env)
    try:
        time.sleep(settle)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/console", timeout=5) as r:
            rss = json.load(r)["rss"]
        # Apprise's plugins are pure Python: the module table, not maps, says it is loaded.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/notifications", timeout=5) as r:
            enabled = json.load(r)["enabled"]
        return rss, enabled
    finally:
        stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settle", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    without, with_ = [], []
    channel = json.dumps({"channels": [{"url": f"json://127.0.0.1:{free_port()}/hook"}]})
    for _ in range(args.rounds):
        without.append(measure({"SERVER_MONITOR_NOTIFY": "{}"}, args.settle)[0])
        with_.append(measure({"SERVER_MONITOR_NOTIFY": channel}, args.settle)[0])
    a, b = statistics.median(without), statistics.median(with_)
    mib = 1 << 20
    print(f"RSS without a channel: {a / mib:.1f} MiB (median of {args.rounds}: {[round(x / mib, 1) for x in without]})")
    print(f"RSS with one channel:  {b / mib:.1f} MiB (median of {args.rounds}: {[round(x / mib, 1) for x in with_]})")
    print(f"difference: {(b - a) / mib:+.1f} MiB, ratio {b / a:.3f}")


if __name__ == "__main__":
    main()
