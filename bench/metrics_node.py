"""What node_exporter's families cost a scraped snapshot (issue 13), against references measured in
the same run.

    .venv/bin/python bench/metrics_node.py [--rounds 200]

Prints, as medians: one read of this host's kernel files (``read_host()``), its parse and
exposition, the whole /metrics exposition of the golden test's literal snapshot with and without
them; then ``read_host`` over a copy of the tree with 256 interfaces (``MAX_NICS``, the bound),
each against reading /proc/stat alone. /metrics is memoised per snapshot, so these are per
scraped tick however many Prometheus servers scrape; an unscraped console pays nothing.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry, generate_latest

from monitor.node_read import NIC_FILES, PROC_FILES, read_host
from tests.test_metrics_golden import literal_snapshot
from views.exporters_node import host_families
from views.metrics_families import SnapshotCollector


def median_ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def exposition(read) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(SimpleNamespace(latest=literal_snapshot(), failures={}), read=read))
    return generate_latest(registry)


class Families:
    def __init__(self, raw):
        self.raw = raw

    def collect(self):
        return host_families(self.raw)


def fake_tree(n_nics: int) -> Path:
    """A root with this host's /proc files and ``n_nics`` copies of a real interface's files."""
    root = Path(tempfile.mkdtemp(prefix="bench-node-"))
    for rel in PROC_FILES.values():
        src = Path("/") / rel
        if src.exists():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            try:
                (root / rel).write_bytes(src.read_bytes())
            except OSError:
                pass
    real = next(p for p in Path("/sys/class/net").iterdir())
    for i in range(n_nics):
        nic = root / "sys/class/net" / f"veth{i}"
        nic.mkdir(parents=True)
        for f in NIC_FILES:
            try:
                (nic / f).write_bytes((real / f).read_bytes())
            except OSError:
                pass
    return root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    n = ap.parse_args().rounds
    stat = median_ms(lambda: Path("/proc/stat").read_bytes(), n)
    raw = read_host()
    read = median_ms(read_host, n)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Families(raw))
    parse = median_ms(lambda: generate_latest(registry), n)
    areas_only = median_ms(lambda: exposition(dict), n)
    whole = median_ms(lambda: exposition(lambda: raw), n)
    print(f"reference: read /proc/stat          {stat:8.3f} ms")
    print(f"read_host() on this host ({len(raw['nics'])} nics)  {read:8.3f} ms  ({read / stat:.0f}x /proc/stat)")
    print(f"parse + exposition of that reading  {parse:8.3f} ms")
    print(f"/metrics, areas only (reference)    {areas_only:8.3f} ms")
    print(f"/metrics, areas + node_exporter's   {whole:8.3f} ms  ({whole / areas_only:.1f}x)"
          f"  {len(exposition(lambda: raw)) // 1024} KiB")
    root = fake_tree(256)
    try:
        wide = median_ms(lambda: read_host(str(root)), max(10, n // 10))
        print(f"read_host() with 256 nics (bound)   {wide:8.3f} ms  ({wide / stat:.0f}x /proc/stat)")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
