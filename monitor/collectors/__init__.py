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
    # Order is the order of cards on the dashboard and of keys in /api/snapshot.
    # ``settings`` (monitor.settings.Settings) reaches the collectors that have options.
    return [SystemCollector(), CpuCollector(), MemoryCollector(), DisksCollector(), NetworkCollector(show_loopback=getattr(settings, "show_loopback", False)),
            SensorsCollector(), ProcessesCollector.from_settings(settings),
            LogsCollector.from_settings(settings)]
