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
The checks themselves and their default levels are monitor/checks.py's ``CHECKS``.
"""
from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from .checks import CHECKS, CheckInfo, Direction  # noqa: F401 - imported from here too


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
