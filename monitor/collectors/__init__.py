"""One module per area of the host. ``default_collectors`` is the list the sampler runs."""
from __future__ import annotations

from .base import Collector
from .cpu import CpuCollector
from .memory import MemoryCollector
from .system import SystemCollector


def default_collectors() -> list[Collector]:
    # Order is the order of cards on the dashboard and of keys in /api/snapshot.
    return [SystemCollector(), CpuCollector(), MemoryCollector()]
