"""Services: systemd's units (service, socket, timer, mount, scope), their states and costs.

Sample:
    nginx.service   loaded active running   since 09:12  main 912   restarts 0  result success
    php-fpm.service loaded active running   since 10:40  main 4121  restarts 7 (4 in 10 min)
    backup.service  loaded failed failed    since 10:37               result exit-code
    present=True cgroup=v2 failed=1

States come from monitor/services_bus.py (D-Bus signals: ``collect()`` only turns the units that
changed since the last tick into models, so an idle host of 2,000 units costs a dict copy).
Costs (monitor/cgroups.py) are read every ``process_interval`` for units with a cgroup, on a
cgroup v2 host only; on v1 or hybrid ``cgroup`` says so and costs stay None.

Unit names, descriptions and state words are host data: cleaned here (monitor/text.py).
``ignored`` units (the ``services_ignore`` patterns) are listed but not judged.
History series: ``services.failed`` and, for the top units by CPU and memory,
``services.<unit>.cpu_percent`` / ``services.<unit>.memory``.
"""
from __future__ import annotations

import fnmatch
import re
import time
from collections import deque
from pathlib import Path
from typing import Any

from pydantic import Field

from monitor import cgroups
from monitor.cgroups import Costs
from monitor.services_bus import SYSTEM_BUS, UnitWatcher, unit_type
from monitor.text import clean

from .base import AreaModel, counter_delta

NAME_LIMIT, TEXT_LIMIT, WORD_LIMIT = 256, 256, 32
RESTART_WINDOW = 600.0  # "restarted 4 times in 10 min"
SERIES_UNITS = 30  # units with per-unit sparklines (top by CPU, then by memory)
FIRST_WAIT = 3.0  # the first collect waits this long for the first full listing


class Unit(AreaModel):
    name: str  # "nginx.service"
    type: str  # service, socket, timer, mount, scope
    description: str
    load: str  # loaded, not-found, masked, error
    active: str  # active, failed, inactive, activating, deactivating, reloading
    sub: str  # running, exited, dead, failed, listening, waiting, mounted, auto-restart ...
    since: float | None  # epoch seconds of the last state change
    main_pid: int | None
    restarts: int | None  # NRestarts: automatic restarts since the last manual start
    restarts_recent: int | None  # of those, seen in the last 10 min (None: not a service)
    result: str | None  # success, exit-code, signal, core-dump, timeout, start-limit-hit ...
    cgroup: str | None  # ControlGroup
    container: str | None = None  # "podman 1a2b3c4d5e6f": a container's scope, said readably
    ignored: bool = False  # matched services_ignore: shown, never judged
    costs: Costs | None = None


class Services(AreaModel):
    present: bool  # False: no systemd on this host (the card says so)
    reason: str = ""  # why not present
    cgroup: str  # v2, hybrid, v1, none: costs only on v2
    total: int
    failed: int
    counts: dict[str, int]  # units per active state
    units: list[Unit]  # failed first, then by name
    # unit types systemd refused to list: one unit's text D-Bus cannot carry (a mount point that
    # is not UTF-8) fails the whole ListUnits; the other types are then listed one by one
    unlisted: list[str] = Field(default_factory=list)


def _num(v: Any) -> int | None:
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else None


def _usec(v: Any) -> float | None:
    n = _num(v)
    return n / 1e6 if n else None


# Container runtimes' scope names (systemd cgroup driver): libpod-<id>.scope (podman),
# docker-<id>.scope, crio-<id>.scope, cri-containerd-<id>.scope; conmon scopes are podman's too.
CONTAINER = re.compile(r"^(libpod-conmon|libpod|docker|crio|cri-containerd)-([0-9a-f]{12,64})\.scope$")
RUNTIME = {"libpod": "podman", "libpod-conmon": "podman conmon", "docker": "docker", "crio": "cri-o",
           "cri-containerd": "containerd"}


def container_of(name: str) -> str | None:
    """ "libpod-1a2b3c4d5e6f7a8b....scope" -> "podman 1a2b3c4d5e6f" (podman ps' short id).

    >>> container_of("libpod-" + "ab" * 32 + ".scope"), container_of("nginx.service")
    ('podman abababababab', None)
    """
    m = CONTAINER.match(name)
    return f"{RUNTIME[m.group(1)]} {m.group(2)[:12]}" if m else None


def shape_unit(raw: dict, recent: int | None, ignored: bool, costs: Costs | None) -> Unit:
    """systemd's properties (monitor/services_bus.py UNIT_PROPS, TYPE_PROPS) -> a Unit."""
    name = clean(raw.get("Id"), NAME_LIMIT)
    pid = _num(raw.get("MainPID"))
    return Unit(
        name=name, type=unit_type(name), description=clean(raw.get("Description"), TEXT_LIMIT),
        load=clean(raw.get("LoadState"), WORD_LIMIT), active=clean(raw.get("ActiveState"), WORD_LIMIT),
        sub=clean(raw.get("SubState"), WORD_LIMIT), since=_usec(raw.get("StateChangeTimestamp")),
        main_pid=pid or None, restarts=_num(raw.get("NRestarts")), restarts_recent=recent,
        result=clean(raw["Result"], WORD_LIMIT) if isinstance(raw.get("Result"), str) else None,
        cgroup=clean(raw.get("ControlGroup"), 1024) or None, container=container_of(name),
        ignored=ignored, costs=costs)


def order(units: list[Unit]) -> list[Unit]:
    return sorted(units, key=lambda u: (u.active != "failed", u.name))


class ServicesCollector:
    name = "services"
    model = Services
    interval = 1.0

    def __init__(self, address: str = SYSTEM_BUS, ignore: tuple[str, ...] = (),
                 process_interval: float = 2.0, cgroup_root: Path | None = None,
                 cgroup_mode: str | None = None):
        self.watcher = UnitWatcher(address)
        self.ignore = tuple(ignore)
        self.process_interval = process_interval
        self.cgroup_mode = cgroup_mode or cgroups.mode()
        self.cgroup_root = cgroup_root or cgroups.ROOT
        self._raw: dict[str, dict] = {}
        self._units: dict[str, Unit] = {}
        self._restarts: dict[str, deque[tuple[float, int]]] = {}
        self._costs: dict[str, Costs] = {}
        self._cost_raw: dict[str, dict] = {}
        self._cost_at = 0.0
        self._ordered: list[Unit] | None = None
        self._last: Services | None = None
        self._started = False

    @classmethod
    def from_settings(cls, settings=None) -> ServicesCollector:
        if settings is None:
            from monitor.settings import get_settings
            settings = get_settings()
        return cls(address=getattr(settings, "services_bus", SYSTEM_BUS),
                   ignore=tuple(getattr(settings, "services_ignore", ())),
                   process_interval=settings.process_interval)

    def open(self) -> None:
        self.watcher.start()

    def close(self) -> None:
        self.watcher.close()
        self._started = False

    def _ignored(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in self.ignore)

    def _recent(self, name: str, raw: dict, now: float) -> int | None:
        """Restarts counted in the last RESTART_WINDOW s from the NRestarts increments we saw."""
        n = _num(raw.get("NRestarts"))
        if n is None:
            return None
        last = self._raw.get(name, {}).get("NRestarts")
        if isinstance(last, int) and n != last:
            self._restarts.setdefault(name, deque(maxlen=256)).append((now, counter_delta(n, last)))
        seen = self._restarts.get(name)
        while seen and seen[0][0] < now - RESTART_WINDOW:
            seen.popleft()
        if seen is not None and not seen:
            del self._restarts[name]
        return sum(inc for _, inc in seen) if seen else 0

    def collect(self, now: float) -> Services:
        if not self._started:
            self.watcher.start(wait=FIRST_WAIT)
            self._started = True
        absent, changed = self.watcher.take()
        if absent:
            self._last = None
            return Services(present=False, reason=absent, cgroup=self.cgroup_mode, total=0,
                            failed=0, counts={}, units=[])
        for name, raw in changed.items():
            if raw is None:
                for d in (self._raw, self._units, self._restarts, self._costs, self._cost_raw):
                    d.pop(name, None)
            else:
                self._units[name] = shape_unit(raw, self._recent(name, raw, now),
                                               self._ignored(name), self._costs.get(name))
                self._raw[name] = raw
            self._ordered = None
        # a restart counted 10 min ago leaves the window without any signal: re-shape those
        for name, seen in list(self._restarts.items()):
            if seen and seen[0][0] < now - RESTART_WINDOW and name in self._raw:
                self._units[name] = shape_unit(self._raw[name], self._recent(name, self._raw[name], now),
                                               self._ignored(name), self._costs.get(name))
                self._ordered = None
        if self.cgroup_mode == "v2" and now - self._cost_at >= self.process_interval:
            self._read_costs(now)
        if self._ordered is None or self._last is None:  # else nothing changed: the same model
            self._ordered = order(list(self._units.values()))
            counts: dict[str, int] = {}
            for u in self._ordered:
                counts[u.active] = counts.get(u.active, 0) + 1
            self._last = Services(present=True, cgroup=self.cgroup_mode, total=len(self._ordered),
                                  failed=counts.get("failed", 0), counts=counts, units=self._ordered,
                                  unlisted=list(self.watcher.unlisted))
        return self._last

    def _read_costs(self, now: float) -> None:
        dt, self._cost_at = now - self._cost_at, now
        for name, unit in self._units.items():
            d = cgroups.unit_dir(unit.cgroup or "", self.cgroup_root)
            cur = cgroups.read_raw(d) if d is not None and unit.active != "inactive" else None
            if cur is None:
                self._cost_raw.pop(name, None)
                self._costs.pop(name, None)
                continue
            costs = cgroups.shape(cur, self._cost_raw.get(name), dt)
            self._cost_raw[name], self._costs[name] = cur, costs
            self._units[name] = unit.model_copy(update={"costs": costs})
        self._ordered = None

    def series(self, data: Services) -> dict[str, float]:
        out = {"services.failed": float(data.failed)} if data.present else {}
        for u in top(data, "cpu_percent", SERIES_UNITS // 2) + top(data, "memory", SERIES_UNITS // 2):
            for key in ("cpu_percent", "memory"):
                v = getattr(u.costs, key, None) if u.costs else None
                if v is not None:
                    out[f"services.{u.name}.{key}"] = float(v)
        return out


def top(data: Services, key: str, n: int) -> list[Unit]:
    """The ``n`` units costing most by ``key`` (a Costs field), highest first."""
    have = [u for u in data.units if u.costs is not None and getattr(u.costs, key) is not None]
    return sorted(have, key=lambda u: -getattr(u.costs, key))[:n]


def find(data: Services, name: str) -> Unit | None:
    return next((u for u in data.units if u.name == name), None)


def since_text(u: Unit, now: float | None = None) -> str:
    """ "3 min ago" from the unit's last state change."""
    if u.since is None:
        return "at an unknown time"
    s = max(0.0, (now or time.time()) - u.since)
    for div, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if s >= div:
            return f"{s / div:.0f} {unit} ago"
    return f"{s:.0f} s ago"
