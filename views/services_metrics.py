"""/metrics for the services area (issue 14): node_exporter's systemd collector names, plus what
each unit costs (from its cgroup, on cgroup v2 hosts only).

node_exporter (collector/systemd_linux.go) exports ``node_systemd_unit_state{name,state,type}``
as one series per unit and state word, 1 for the state it is in and 0 for the others, and
``node_systemd_service_restart_total{name}`` from NRestarts; the same here, so dashboards and
alerts written for node_exporter work. Registered in views/exporters.py's EXPORTERS["services"].
"""
from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric

STATES = ("activating", "active", "deactivating", "inactive", "failed")


def export(d) -> Iterator[Metric | None]:
    # here, not at the top: views/exporters.py imports this module at its end to register it
    from .exporters import counter, gauge, label
    if not getattr(d, "present", False):
        return
    units = d.units
    yield gauge("node_systemd_unit_state", "Systemd unit", ("name", "state", "type"),
                [((label(u.name), s, label(u.type)), 1 if u.active == s else 0)
                 for u in units for s in STATES])
    yield counter("node_systemd_service_restart", "Service unit count of Restart triggers", ("name",),
                  [((label(u.name),), u.restarts) for u in units if u.type == "service"])
    costs = [(label(u.name), u.costs) for u in units if u.costs is not None]
    for name, key, doc in (
        ("server_monitor_services_cpu_percent", "cpu_percent", "CPU of the unit's cgroup, percent of one core"),
        ("server_monitor_services_memory_bytes", "memory", "memory.current of the unit's cgroup"),
        ("server_monitor_services_memory_max_bytes", "memory_max", "memory.max of the unit's cgroup (absent: no limit)"),
        ("server_monitor_services_io_read_bytes_per_second", "io_read_per_s", "io.stat rbytes rate"),
        ("server_monitor_services_io_write_bytes_per_second", "io_write_per_s", "io.stat wbytes rate"),
        ("server_monitor_services_tasks", "tasks", "pids.current of the unit's cgroup"),
    ):
        yield gauge(name, doc, ("name",), [((n,), getattr(c, key)) for n, c in costs])
    yield gauge("server_monitor_services_pressure_percent", "PSI some avg10 of the unit's cgroup",
                ("name", "resource"),
                [((n, r), getattr(c, f"pressure_{r}")) for n, c in costs for r in ("cpu", "memory", "io")])
