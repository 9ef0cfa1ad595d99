"""The areas of the host, once: everything that lists areas derives from ``AREAS``.

An area is one word (``cpu``) used everywhere: ``monitor/collectors/cpu.py`` (``CpuCollector``),
``Snapshot.areas["cpu"]``, the card ``cards/cpu.html`` (partials/cpu.html), ``/api/cpu``, SSE
``event: cpu``, history series ``cpu.*``, checks ``cpu_*`` (monitor/checks.py), metric families
from ``views.metrics.EXPORTERS["cpu"]``. tests/test_layout.py fails when an entry lacks any of them.

    >>> [a.name for a in AREAS]
    ['system', 'cpu', 'memory', 'disks', 'network', 'sensors', 'pressure', 'services', 'processes', 'logs']
    >>> BY_NAME["memory"].card
    'cards/memory.html'
    >>> BY_NAME["memory"].checks[0].name
    'memory_percent'
    >>> sorted(display_paths())[:2]
    ['/api/cpu', '/api/disks']

Adding an area: its collector module (model, ``read()``, pure ``shape()``, the collector class),
its card, and one line below; see docs/ARCHITECTURE.md ("Adding an area").
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor.collectors.base import Collector
from monitor.collectors.cpu import CpuCollector
from monitor.collectors.disks import DisksCollector
from monitor.collectors.logs import LogsCollector
from monitor.collectors.memory import MemoryCollector
from monitor.collectors.network import NetworkCollector
from monitor.collectors.pressure import PressureCollector
from monitor.collectors.processes import ProcessesCollector
from monitor.collectors.sensors import SensorsCollector
from monitor.collectors.services import ServicesCollector
from monitor.collectors.system import SystemCollector
from monitor.thresholds import CHECKS, CheckInfo


def _build(collector: type) -> Callable[[Any], Collector]:
    """``Collector.from_settings(settings)`` where the class has options, else ``Collector()``."""
    make = getattr(collector, "from_settings", None)
    return make if make is not None else (lambda settings: collector())


@dataclass(frozen=True)
class Area:
    name: str  # the area word
    collector: type  # monitor/collectors/<name>.py's collector class
    # /api/<name> is open to the display scope (wall screens, anonymous loopback). Every card is
    # on the dashboard in every scope; the display rendering leaves out command lines and log text.
    display: bool
    build: Callable[[Any], Collector] | None = None  # settings -> collector; default: _build
    no_checks: str = ""  # why the area has no check, when it has none
    no_exporter: str = ""  # why views/metrics.py exports nothing for it, when it does not

    @property
    def card(self) -> str:
        return f"cards/{self.name}.html"

    @property
    def checks(self) -> list[CheckInfo]:
        """The checks judging this area (monitor.thresholds.CHECKS by ``CheckInfo.area``)."""
        return [info for info, _ in CHECKS.values() if info.area == self.name]

    def make(self, settings=None) -> Collector:
        return (self.build or _build(self.collector))(settings)


# The order is the dashboard's card order and the order of keys in /api/snapshot ("system" is
# shown in the page header).
AREAS: tuple[Area, ...] = (
    Area("system", SystemCollector, display=True,
         no_checks="host name, kernel, uptime and boot time: facts, nothing to judge"),
    Area("cpu", CpuCollector, display=True),
    Area("memory", MemoryCollector, display=True),
    Area("disks", DisksCollector, display=True,
         build=lambda s: DisksCollector(tmpfs_mounts=getattr(s, "tmpfs_mounts", None) or ())),
    Area("network", NetworkCollector, display=True,
         build=lambda s: NetworkCollector(show_loopback=getattr(s, "show_loopback", False))),
    Area("sensors", SensorsCollector, display=True),
    Area("pressure", PressureCollector, display=True),  # numbers and victims' command names only
    Area("services", ServicesCollector, display=False),  # unit names and pids: full scope only
    Area("processes", ProcessesCollector, display=False),  # command lines: full scope only
    Area("logs", LogsCollector, display=False),  # /api/logs is a log query: full scope only
)
BY_NAME: dict[str, Area] = {a.name: a for a in AREAS}


def default_collectors(settings=None) -> list[Collector]:
    """One collector per area, in card order; ``settings`` (monitor.settings.Settings) reaches
    the collectors that have options."""
    return [a.make(settings) for a in AREAS]


def display_paths() -> set[str]:
    """The /api/<area> paths the display scope may read (views/scopes.py)."""
    return {f"/api/{a.name}" for a in AREAS if a.display}
