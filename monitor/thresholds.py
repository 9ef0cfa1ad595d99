"""Thresholds: what counts as warning and critical, for how long, and when it clears.

Every check has one ``Threshold``: a warning and a critical level, a hold time (``for``, seconds
the condition must hold before the state rises, like Prometheus' ``for:``) and a ``clear`` level
(hysteresis: a raised state only lowers once the value is back past ``clear``, so a value hovering
at the limit does not flap). In the TOML file named by SERVER_MONITOR_CONFIG:

    [thresholds.cpu_percent]          # only the fields given change; the rest keep their default
    warning = 85
    for = 120

    [thresholds.mounts."/var/lib/docker"]          # per-mount override of filesystem checks
    disks_percent = { warning = 92, critical = 97, clear = 90 }

    [thresholds.interfaces.eth0]                   # per-interface override of network checks
    network_errors = { enabled = false }

``Thresholds().effective("disks_percent", "/var")`` is the threshold after overrides.
"""
from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

Direction = Literal["above", "below"]


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    warning: float | None = Field(None, description="level at which the state becomes warning")
    critical: float | None = Field(None, description="level at which the state becomes critical")
    for_: float = Field(0.0, alias="for", ge=0,
                        description="seconds the level must hold before the state rises")
    clear: float | None = Field(
        None, description="a raised state lowers only once the value is back past this level "
                          "(hysteresis); the same margin applies to leaving critical, "
                          "which never stays past the warning level")
    enabled: bool = True


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

OVERRIDE_KINDS = {"mounts": "mount", "interfaces": "interface", "units": "unit"}

# The names before issue 11 (one word per area): still accepted in a configuration, with a note in
# the log naming the new one.
RENAMED = {"load_per_core": "cpu_load_per_core", "swap_percent": "memory_swap_percent",
           "fs_percent": "disks_percent", "fs_inodes_percent": "disks_inodes_percent",
           "fs_time_to_full": "disks_time_to_full", "disk_busy": "disks_busy",
           "net_errors": "network_errors", "temperature": "sensors_temperature",
           "zombies": "processes_zombies", "log_errors": "logs_errors"}

log = logging.getLogger("server_monitor.thresholds")


def _renamed(given: dict[str, Any], where: str = "") -> dict[str, Any]:
    """``given`` with each old check name replaced by its new one (one log line per old name)."""
    out = dict(given)
    for old, new in RENAMED.items():
        if old not in out:
            continue
        if new in out:
            raise ValueError(f"thresholds{where}: {old!r} is the old name of {new!r}; give only {new!r}")
        log.warning("threshold %s is now %s", old, new)
        out[new] = out.pop(old)
    return out


class _Thresholds(BaseModel):
    """All thresholds; fields given in the config replace only those fields of the default.

    One field per check of ``CHECKS`` (``Thresholds`` below adds them, so a check is named in one
    place), then ``mounts`` and ``interfaces``: the per-mount and per-interface overrides.
    """
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _merge_defaults(cls, data: Any) -> Any:
        data = _renamed(dict(data or {}))
        for kind in OVERRIDE_KINDS:
            if isinstance(data.get(kind), dict):
                data[kind] = {who: _renamed(p, f".{kind}.{who}") if isinstance(p, dict) else p
                              for who, p in data[kind].items()}
        for name, (_, default) in CHECKS.items():
            given = data.get(name)
            if isinstance(given, Threshold):
                given = given.model_dump(by_alias=True, exclude_unset=True)
            data[name] = _patch(default, given or {})
        return data

    @model_validator(mode="after")
    def _check(self) -> _Thresholds:
        for name, (info, _) in CHECKS.items():
            _validate_levels(name, info, getattr(self, name))
        for kind, subject in OVERRIDE_KINDS.items():
            for who, patches in getattr(self, kind).items():
                for name, patch in patches.items():
                    info = CHECKS.get(name, (None,))[0]
                    if info is None or info.subject != subject:
                        allowed = ", ".join(n for n, (i, _) in CHECKS.items() if i.subject == subject)
                        raise ValueError(f"thresholds.{kind}.{who}: {name!r} cannot be set per "
                                         f"{subject} (allowed: {allowed})")
                    merged = self.effective(name, who, kind)
                    _validate_levels(f"{kind}.{who}.{name}", info, merged)
        return self

    def get(self, name: str) -> Threshold:
        return getattr(self, name)

    def effective(self, name: str, subject: str = "", kind: str | None = None) -> Threshold:
        """The threshold of check ``name`` for ``subject`` (a mount point or interface name)."""
        base = self.get(name)
        if not subject:
            return base
        kinds = [kind] if kind else [k for k, s in OVERRIDE_KINDS.items() if s == CHECKS[name][0].subject]
        for k in kinds:
            patch = getattr(self, k).get(subject, {}).get(name)
            if patch:
                return Threshold.model_validate(_patch(base.model_dump(by_alias=True), patch))
        return base

    def overridden(self, name: str) -> dict[str, Threshold]:
        """subject -> effective threshold, for every override of check ``name``."""
        subject = CHECKS[name][0].subject
        out = {}
        for kind, s in OVERRIDE_KINDS.items():
            if s == subject:
                for who, patches in getattr(self, kind).items():
                    if name in patches:
                        out[who] = self.effective(name, who, kind)
        return out


Thresholds = create_model(
    "Thresholds", __base__=_Thresholds, __module__=__name__,
    **{name: (Threshold, ...) for name in CHECKS},
    # mount point -> check -> fields to change for that filesystem
    mounts=(dict[str, dict[str, dict[str, Any]]], Field(default_factory=dict)),
    # interface name -> check -> fields to change for that interface
    interfaces=(dict[str, dict[str, dict[str, Any]]], Field(default_factory=dict)),
    # systemd unit name -> check -> fields to change for that unit ([thresholds.units."x.service"])
    units=(dict[str, dict[str, dict[str, Any]]], Field(default_factory=dict)),
)
Thresholds.__doc__ = _Thresholds.__doc__

def _patch(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the fields of ``patch``. A patch that moves the levels but says nothing of
    ``clear`` keeps the base's hysteresis margin below its new first level."""
    out = {**base, **patch}
    if "clear" not in patch and base.get("clear") is not None and ({"warning", "critical"} & set(patch)):
        old = base["warning"] if base.get("warning") is not None else base.get("critical")
        new = out["warning"] if out.get("warning") is not None else out.get("critical")
        if old is not None and new is not None:
            out["clear"] = new - (old - base["clear"])
    return out


def _validate_levels(where: str, info: CheckInfo, t: Threshold) -> None:
    w, c, clear = t.warning, t.critical, t.clear
    sign = 1 if info.direction == "above" else -1
    if w is not None and c is not None and sign * w > sign * c:
        word = "above" if sign > 0 else "below"
        raise ValueError(f"thresholds.{where}: warning {w} must not be {word} critical {c} "
                         f"(this check is bad when {info.direction} its levels)")
    lowest = w if w is not None else c
    if clear is not None and lowest is not None and sign * clear > sign * lowest:
        side = "below" if sign > 0 else "above"
        raise ValueError(f"thresholds.{where}: clear {clear} must be at or {side} the first level "
                         f"{lowest}")


def clear_levels(t: Threshold, direction: Direction) -> tuple[float | None, float | None]:
    """(warning clears past, critical clears past): the hysteresis band of each level.

    ``clear`` is where warning clears; critical keeps the same margin below (or above) itself,
    but never past the warning level: a value on the ok side of warning is not critical
    (cpu 90/98, clear 80: critical lowers to warning under 90, not under 88).
    Without ``clear`` a state clears as soon as the value is back past its own level.
    """
    sign = 1 if direction == "above" else -1
    lowest = t.warning if t.warning is not None else t.critical
    margin = 0.0 if t.clear is None or lowest is None else sign * (lowest - t.clear)
    w_clear = None if t.warning is None else t.warning - sign * margin
    c_clear = None if t.critical is None else t.critical - sign * margin
    if c_clear is not None and t.warning is not None:
        c_clear = max(c_clear, t.warning) if sign > 0 else min(c_clear, t.warning)
    return w_clear, c_clear
