"""One module per area of the host. ``default_collectors`` is the list the sampler runs."""
from __future__ import annotations

from .base import Collector
from .cpu import CpuCollector
from .disks import DisksCollector
from .logs import LogsCollector
from .memory import MemoryCollector
from .network import NetworkCollector
from .processes import ProcessesCollector
from .sensors import SensorsCollector
from .system import SystemCollector


def default_collectors(settings=None) -> list[Collector]:
    """One collector per area of monitor/areas.py (the registry), in its order: the dashboard's
    card order and the order of keys in /api/snapshot. ``settings`` (monitor.settings.Settings)
    reaches the collectors that have options."""
    from monitor.areas import default_collectors as from_registry  # areas imports this package
    return from_registry(settings)
