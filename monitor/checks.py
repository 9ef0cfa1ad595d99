"""The checks: what each one judges (``CheckInfo``: its area, label, unit, direction and subject)
and its default levels, in the order of /api/alert-rules. README.md ("Thresholds") documents
them; monitor/thresholds.py reads the configuration that changes them, monitor/measures.py
measures each one.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Direction = Literal["above", "below"]


class CheckInfo(BaseModel):
    """What a threshold judges: documentation for README, /api/alert-rules and errors."""
    model_config = ConfigDict(frozen=True)

    name: str
    area: str
    label: str  # "CPU busy"
    unit: str  # "%", "s", "/s", "°C", "" (a count)
    direction: Direction = "above"
    subject: Literal["", "mount", "interface", "device", "sensor", "unit"] = ""
    doc: str = ""


def _t(warning, critical, for_=0.0, clear=None) -> dict[str, Any]:
    return {"warning": warning, "critical": critical, "for": for_, "clear": clear}


# The defaults, documented in README.md ("Thresholds"). Order is the order of /api/alert-rules.
CHECKS: dict[str, tuple[CheckInfo, dict[str, Any]]] = {c.name: (c, d) for c, d in [
    (CheckInfo(name="cpu_percent", area="cpu", label="CPU busy", unit="%",
               doc="busy share of all cores"), _t(90, 98, 60, 80)),
    (CheckInfo(name="cpu_iowait", area="cpu", label="CPU iowait", unit="%",
               doc="share of time cores sat idle waiting for I/O"), _t(20, 50, 60, 10)),
    (CheckInfo(name="cpu_steal", area="cpu", label="CPU steal", unit="%",
               doc="share of time the hypervisor gave our vCPUs to someone else"), _t(10, 25, 60, 5)),
    (CheckInfo(name="cpu_load_per_core", area="cpu", label="load per core", unit="",
               doc="1-minute load average divided by logical cores"), _t(1.5, 3.0, 120, 1.2)),
    (CheckInfo(name="memory_percent", area="memory", label="memory used", unit="%",
               doc="(total - available) / total"), _t(90, 95, 30, 85)),
    (CheckInfo(name="memory_swap_percent", area="memory", label="swap used", unit="%"), _t(50, 80, 60, 40)),
    (CheckInfo(name="disks_percent", area="disks", label="space used", unit="%", subject="mount",
               doc="per filesystem, as df shows it"), _t(85, 95, 0, 82)),
    (CheckInfo(name="disks_inodes_percent", area="disks", label="inodes used", unit="%",
               subject="mount"), _t(85, 95, 0, 82)),
    (CheckInfo(name="disks_time_to_full", area="disks", label="time to full", unit="s",
               direction="below", subject="mount",
               doc="seconds until the filesystem is full at the recent fill rate"),
     _t(86400, 14400, 300, 129600)),
    (CheckInfo(name="disks_busy", area="disks", label="disk busy", unit="%", subject="device",
               doc="share of time the block device had I/O in flight"), _t(90, 99, 120, 80)),
    (CheckInfo(name="network_errors", area="network", label="network errors", unit="/s",
               subject="interface", doc="receive + transmit errors per second"), _t(1, 10, 60, 0.5)),
    (CheckInfo(name="sensors_temperature", area="sensors", label="temperature", unit="°C", subject="sensor",
               doc="against the sensor's own high/critical; these levels only when it has none"),
     _t(80, 95, 30, 75)),
    # PSI (the kernel's Documentation/accounting/psi.rst): "full" is the share of time every
    # non-idle task stalled at once, i.e. work lost. memory full: critical at 60 % held 30 s is
    # systemd-oomd's default (ManagedOOMMemoryPressureLimit=60%, DefaultMemoryPressureDurationSec=30s,
    # oomd.conf(5)), where oomd starts killing; warning at 10 % held 30 s is our own margin before it.
    (CheckInfo(name="pressure_memory_full", area="pressure", label="memory stall (full)", unit="%",
               doc="share of the last 10 s all tasks stalled on memory (PSI full avg10); "
                   "critical is systemd-oomd's default kill limit, 60 % for 30 s"), _t(10, 60, 30, 5)),
    # io full: no upstream default exists; 20 % / 50 % held 60 s is our judgment (a fifth, then half
    # of wall time lost to I/O waits on every task), held longer than memory since I/O stalls are burstier.
    (CheckInfo(name="pressure_io_full", area="pressure", label="I/O stall (full)", unit="%",
               doc="share of the last 10 s all tasks stalled on I/O (PSI full avg10)"), _t(20, 50, 60, 10)),
    # Any OOM kill is worth an event: the kernel ended a process. Warning at 1 kill in the last
    # 10 min, critical at 5 (repeated kills: a service in a kill loop).
    (CheckInfo(name="pressure_oom_kills", area="pressure", label="OOM kills", unit="",
               doc="processes the kernel's OOM killer ended in the last 10 minutes (/proc/vmstat oom_kill)"),
     _t(1, 5, 0, 0.5)),
    (CheckInfo(name="processes_zombies", area="processes", label="zombie processes", unit=""), _t(5, 20, 60, 3)),
    # A failed unit is what Cockpit's first page counts; one is critical at once (no hold: systemd
    # already gave up on it). Subject: the unit; "" (value 0) when none has failed.
    (CheckInfo(name="services_failed", area="services", label="failed unit", unit="", subject="unit",
               doc="1 for a systemd unit in the failed state (its name, result and since when)"),
     _t(None, 1, 0, None)),
    # Crash loops: systemd restarts a unit with Restart= up to StartLimitBurst=5 times in
    # StartLimitIntervalSec=10 s by default; 3 automatic restarts in 10 min is already a pattern.
    (CheckInfo(name="services_restarts", area="services", label="unit restarts", unit="", subject="unit",
               doc="automatic restarts (NRestarts increments) seen in the last 10 minutes"),
     _t(3, None, 0, None)),
    (CheckInfo(name="logs_errors", area="logs", label="error log lines per minute", unit="/min",
               doc="lines at level err or worse in the last minute"), _t(10, 60, 0, 5)),
]}
