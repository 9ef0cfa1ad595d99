"""Per-core CPU stays readable on a 64-core host (a fake cpu collector; the rest is real).

Served in-process by uvicorn in a thread (conftest's ``serve_app``), because the fake collector cannot cross into a
subprocess. Each core's cell must keep its number legible: wide enough for "100", text not
clipped, and the overview still fits a 1920x1080 screen.
"""
from __future__ import annotations

import pytest

from main import create_app
from monitor.collectors.cpu import Cpu
from monitor.collectors.memory import MemoryCollector
from monitor.collectors.system import SystemCollector
from monitor.settings import Settings
from tests.conftest import TEST_TOKEN

CORES = 64


class ManyCores:
    name, model, interval = "cpu", Cpu, 0.0

    def __init__(self) -> None:
        self.n = 0

    def collect(self, now: float) -> Cpu:
        self.n += 1
        per_core = [float((i * 37 + self.n * 11) % 101) for i in range(CORES)]
        return Cpu(percent=sum(per_core) / CORES, per_core=per_core, user=40.0, nice=0.0, system=9.0,
                   idle=50.0, iowait=1.0, irq=0.0, softirq=0.0, steal=0.0, load1=48.0, load5=40.0,
                   load15=30.0, load_per_core=0.75, count=CORES, ctx_switches_per_s=90000.0,
                   interrupts_per_s=50000.0)

    def series(self, data: Cpu) -> dict[str, float]:
        return {"cpu.percent": data.percent, "cpu.load1": data.load1}


@pytest.fixture
def many_core_console(tmp_path, serve_app):
    app = create_app(Settings(tick=1, data_dir=tmp_path, token=TEST_TOKEN),
                     collectors=[SystemCollector(), ManyCores(), MemoryCollector()])
    return serve_app(app)


def test_64_cores_are_each_legible_at_1080p(many_core_console, watched_page):
    page = watched_page.page
    page.goto(many_core_console + "/dashboard")
    cells = page.locator("#cpu .cores li")
    assert cells.count() == CORES
    boxes = page.evaluate("""() => [...document.querySelectorAll('#cpu .cores li')].map(li => {
        const pct = li.querySelector('.core-pct');
        return {w: li.getBoundingClientRect().width, h: li.getBoundingClientRect().height,
                clipped: pct.scrollWidth > pct.clientWidth + 1,
                font: parseFloat(getComputedStyle(pct).fontSize)};
    })""")
    assert all(b["w"] >= 24 and b["h"] >= 16 for b in boxes), boxes[:3]
    assert not any(b["clipped"] for b in boxes)
    assert min(b["font"] for b in boxes) >= 11  # px: readable, not shrunk to dots
    # A core's number and its index are in the markup, not only a colour.
    index, value = cells.nth(63).inner_text().split()
    assert index == "63" and 0 <= int(value) <= 100
    w, h = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert w <= 1920 and h <= 1080
    watched_page.assert_clean()
