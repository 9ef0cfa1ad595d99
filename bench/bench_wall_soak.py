"""Soak: /wall open in headless Chromium for N minutes at 1 s ticks; DOM and JS heap must stay flat.

    .venv/bin/python bench/bench_wall_soak.py                 # 10 minutes, own console on a free port
    .venv/bin/python bench/bench_wall_soak.py --minutes 2
    .venv/bin/python bench/bench_wall_soak.py --url http://127.0.0.1:8000   # an already running console

Every ``--every`` seconds it forces a garbage collection through the DevTools protocol
(HeapProfiler.collectGarbage) and then reads Performance.getMetrics: ``Nodes`` (DOM nodes alive,
detached ones included, so a leak of swapped-out cards shows), ``JSHeapUsedSize``,
``JSEventListeners`` and ``Documents``; plus the page's own count of elements in the document.
It prints one line per sample and the start/end difference. Not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script or imported by tests: bench._server either way

from bench._server import free_port, start_console, stop  # noqa: E402
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def sample(page, cdp) -> dict[str, float]:
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {
        "seq": int(page.locator("#tick .tick").get_attribute("data-seq")),
        "elements": page.evaluate("document.getElementsByTagName('*').length"),
        "nodes": metrics.get("Nodes", 0),
        "heap_mib": metrics.get("JSHeapUsedSize", 0) / 2**20,
        "listeners": metrics.get("JSEventListeners", 0),
        "documents": metrics.get("Documents", 0),
    }


def show(t: float, s: dict) -> None:
    print(f"{t:7.0f} s  sample {s['seq']:6d}  elements {s['elements']:5d}  nodes {s['nodes']:6.0f}  "
          f"heap {s['heap_mib']:6.2f} MiB  listeners {s['listeners']:5.0f}  documents {s['documents']:.0f}",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    ap.add_argument("--url", help="a running console; default: start one on a free port")
    args = ap.parse_args()

    if args.url:
        proc, url = None, args.url.rstrip("/")
    else:
        port = free_port()
        proc, url = start_console(port, {"SERVER_MONITOR_TICK": "1"}), f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(url + "/wall")
            page.locator("#tick .tick").wait_for(timeout=10_000)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.wait_for_timeout(5000)  # let sparklines and the first swaps settle
            t0 = time.monotonic()
            first = sample(page, cdp)
            show(0, first)
            end = t0 + args.minutes * 60
            while time.monotonic() < end:
                page.wait_for_timeout(max(0.0, min(args.every, end - time.monotonic())) * 1000)
                last = sample(page, cdp)
                show(time.monotonic() - t0, last)
            print(f"\n{args.minutes:g} min on /wall, {last['seq'] - first['seq']} ticks received")
            for key, unit in (("elements", ""), ("nodes", ""), ("heap_mib", " MiB"), ("listeners", "")):
                print(f"  {key:9s} start {first[key]:9.2f}{unit}  end {last[key]:9.2f}{unit}  "
                      f"change {last[key] - first[key]:+.2f}{unit}")
            browser.close()
    finally:
        if proc is not None:
            stop(proc)


if __name__ == "__main__":
    main()
