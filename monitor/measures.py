"""Measuring: one number per (check, subject) from an area model, and the reason in plain words.

``MEASURES`` maps an area word to its checks; each ``Measure`` lists the area's subjects (mount
points, interfaces, sensors; host-wide checks have one, ``""``) and reads one ``Measurement`` per
subject, or None when there is nothing to judge (no swap, a first reading without rates). Kept
apart so that a subject whose data breaks the measure makes only that (check, subject) unknown
(monitor/health.py). ``reason`` words a verdict:

>>> from monitor.thresholds import CHECKS, Threshold
>>> reason(CHECKS["disks_percent"][0], Measurement(96.0, text="/var is 96 % full"), "critical",
...        Threshold(warning=85, critical=95))
'/var is 96 % full (critical at 95 %)'

Numbers in words (``fmt``, ``about``) are monitor/wording.py's.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .thresholds import CheckInfo, Threshold
from .wording import about, fmt, gib, pct as _pct


@dataclass(frozen=True)
class Measurement:
    value: float
    text: str = ""  # what the reason says before the level, e.g. "/var is 93 % full"
    extra: str = ""  # appended after the level, e.g. ", full in about 2 h"
    levels: tuple[float | None, float | None] | None = None  # the subject's own (sensor high/crit)
    top: str | None = None  # "cpu", "memory" or "zombie": which processes to name


def _num(v: Any) -> float | None:
    """A reading as a float; None when there is none. NaN or Infinity is not "no reading" but
    bad data: it raises, so the check is unknown rather than skipped."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f):
        raise ValueError(f"the reading is {f}, not a number")
    return f


def _level(v: Any) -> float | None:
    """A sensor's own level: a missing, zero or non-finite one means "none" (the configured)."""
    f = v if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    return f if f is not None and math.isfinite(f) and f > 0 else None


# One Measure per check: ``subjects(data)`` lists the (subject, item) pairs of an area (mounts,
# interfaces, sensors; host-wide checks have one, ("", data)), ``measure(item)`` reads one number
# or None (nothing to judge: no swap, a first reading without rates). Kept apart so that a subject
# whose data breaks the measure makes only that (check, subject) unknown.
@dataclass(frozen=True)
class Measure:
    check: str
    measure: Callable[[Any], Measurement | None]
    subjects: Callable[[Any], Iterable[tuple[str, Any]]] = lambda d: [("", d)]


def _cpu_percent(d) -> Measurement | None:
    v = _num(d.percent)
    return None if v is None else Measurement(v, text=f"CPU is {_pct(v)} busy", top="cpu")


def _cpu_iowait(d) -> Measurement | None:
    v = _num(getattr(d, "iowait", None))
    return None if v is None else Measurement(v, text=f"CPU waits on I/O {_pct(v)} of the time")


def _cpu_steal(d) -> Measurement | None:
    v = _num(getattr(d, "steal", None))
    return None if v is None else Measurement(v, text=f"the hypervisor steals {_pct(v)} of CPU time")


def _cpu_load_per_core(d) -> Measurement | None:
    v = _num(getattr(d, "load_per_core", None))
    return None if v is None else Measurement(
        v, text=f"load is {v:.2f} per core ({d.load1:.2f} on {d.count} cores)", top="cpu")


def _memory_percent(d) -> Measurement | None:
    v = _num(d.percent)
    return None if v is None else Measurement(
        v, text=f"memory is {_pct(v)} used", extra=f", {gib(d.available)} available", top="memory")


def _memory_swap_percent(d) -> Measurement | None:
    if not d.swap_total:  # no swap configured is not a problem to judge
        return None
    v = _num(d.swap_percent)
    return None if v is None else Measurement(v, text=f"swap is {_pct(v)} used", top="memory")


def _filesystems(d) -> Iterable[tuple[str, Any]]:
    return [(fs.mountpoint, fs) for fs in getattr(d, "filesystems", [])]


def _measured_over(fs) -> str:
    over = _num(getattr(fs, "full_in_over", None))
    return f", measured over {about(over).removeprefix('about ')}" if over is not None else ""


def _disks_percent(fs) -> Measurement | None:
    v, full_in = _num(fs.percent), _num(getattr(fs, "full_in", None))
    extra = f", full in {about(full_in)}{_measured_over(fs)}" if full_in is not None else ""
    return None if v is None else Measurement(v, text=f"{fs.mountpoint} is {_pct(v)} full", extra=extra)


def _disks_inodes_percent(fs) -> Measurement | None:
    v = _num(getattr(fs, "inodes_percent", None))
    return None if v is None else Measurement(v, text=f"{fs.mountpoint} has used {_pct(v)} of its inodes")


def _disks_time_to_full(fs) -> Measurement | None:
    full_in, pct = _num(getattr(fs, "full_in", None)), _num(fs.percent)
    return None if full_in is None else Measurement(
        full_in, text=f"{fs.mountpoint} will be full in {about(full_in)}{_measured_over(fs)}",
        extra=f", {_pct(pct)} full now" if pct is not None else "")


def _devices(d) -> Iterable[tuple[str, Any]]:
    return [(dev.name, dev) for dev in getattr(d, "devices", [])]


def _disks_busy(dev) -> Measurement | None:
    v = _num(getattr(dev, "busy_percent", None))
    return None if v is None else Measurement(v, text=f"disk {dev.name} is busy {_pct(v)} of the time")


def _interfaces(d) -> Iterable[tuple[str, Any]]:
    return [(nic.name, nic) for nic in getattr(d, "interfaces", [])]


def _network_errors(nic) -> Measurement | None:
    errin, errout = _num(getattr(nic, "errin_per_s", None)), _num(getattr(nic, "errout_per_s", None))
    if errin is None and errout is None:
        return None
    v = (errin or 0.0) + (errout or 0.0)
    return Measurement(v, text=f"{nic.name} has {v:.3g} errors/s ({errin or 0:.3g} in, {errout or 0:.3g} out)")


def _temperatures(d) -> Iterable[tuple[str, Any]]:
    return [(t.label if t.label.startswith(t.chip) else f"{t.chip} {t.label}", t)
            for t in getattr(d, "temperatures", [])]


def _sensors_temperature(t) -> Measurement | None:
    v = _num(t.current)
    if v is None:
        return None
    name = t.label if t.label.startswith(t.chip) else f"{t.chip} {t.label}"
    return Measurement(v, text=f"{name} is at {v:.0f} °C", levels=(_level(t.high), _level(t.critical)))


def _processes_zombies(d) -> Measurement | None:
    n = (getattr(d, "counts", None) or {}).get("zombie", 0)
    return Measurement(n, text=f"{n} zombie process{'' if n == 1 else 'es'}", top="zombie")


def _logs_errors(d) -> Measurement | None:
    v = _num(getattr(d, "errors_per_minute", None))
    return None if v is None else Measurement(
        v, text=f"{v:.0f} error line{'' if v == 1 else 's'} per minute in the logs")


def _psi_full(resource: str, what: str) -> Callable[[Any], Measurement | None]:
    def measure(d) -> Measurement | None:
        r = next((r for r in getattr(d, "resources", []) if r.name == resource), None)
        v = None if r is None or r.full is None else _num(r.full.avg10)
        return None if v is None else Measurement(
            v, text=f"all tasks stalled on {what} {_pct(v)} of the last 10 s",
            top="memory" if resource == "memory" else None)
    return measure


def _pressure_oom_kills(d) -> Measurement | None:
    n = getattr(d, "oom_kills_recent", None)
    if n is None:
        return None
    names = [k.name for k in getattr(d, "oom_recent", []) if k.name]
    who = f" ({', '.join(dict.fromkeys(names))})" if names else ""
    return Measurement(n, text=f"the kernel killed {n} process{'' if n == 1 else 'es'}{who} "
                               "for lack of memory in the last 10 min")


def _judged_units(d) -> list:
    return [u for u in getattr(d, "units", []) if not u.ignored]


def _failed_units(d) -> Iterable[tuple[str, Any]]:
    """Each failed unit; ("", None) when none has failed, so an ok verdict says so."""
    failed = [(u.name, u) for u in _judged_units(d) if u.active == "failed"]
    return failed or ([("", None)] if getattr(d, "present", False) else [])


def _services_failed(u) -> Measurement | None:
    if u is None:
        return Measurement(0, text="no unit has failed")
    from monitor.collectors.services import since_text
    return Measurement(1, text=f"{u.name} failed {since_text(u)}: {u.result or 'no result'}")


def _restarting_units(d) -> Iterable[tuple[str, Any]]:
    rising = [(u.name, u) for u in _judged_units(d) if u.restarts_recent]
    return rising or ([("", None)] if getattr(d, "present", False) else [])


def _services_restarts(u) -> Measurement | None:
    if u is None:
        return Measurement(0, text="no unit restarted in the last 10 min")
    n = u.restarts_recent
    return Measurement(n, text=f"{u.name.removesuffix('.service')} restarted {n} time"
                               f"{'' if n == 1 else 's'} in 10 min")


# area -> its checks, each reading the area model's own fields.
MEASURES: dict[str, list[Measure]] = {
    "cpu": [Measure("cpu_percent", _cpu_percent), Measure("cpu_iowait", _cpu_iowait),
            Measure("cpu_steal", _cpu_steal), Measure("cpu_load_per_core", _cpu_load_per_core)],
    "memory": [Measure("memory_percent", _memory_percent),
               Measure("memory_swap_percent", _memory_swap_percent)],
    "disks": [Measure("disks_percent", _disks_percent, _filesystems),
              Measure("disks_inodes_percent", _disks_inodes_percent, _filesystems),
              Measure("disks_time_to_full", _disks_time_to_full, _filesystems),
              Measure("disks_busy", _disks_busy, _devices)],
    "network": [Measure("network_errors", _network_errors, _interfaces)],
    "sensors": [Measure("sensors_temperature", _sensors_temperature, _temperatures)],
    "pressure": [Measure("pressure_memory_full", _psi_full("memory", "memory")),
                 Measure("pressure_io_full", _psi_full("io", "I/O")),
                 Measure("pressure_oom_kills", _pressure_oom_kills)],
    "processes": [Measure("processes_zombies", _processes_zombies)],
    "logs": [Measure("logs_errors", _logs_errors)],
    "services": [Measure("services_failed", _services_failed, _failed_units),
                 Measure("services_restarts", _services_restarts, _restarting_units)],
}


def reason(info: CheckInfo, m: Measurement, state: str, t: Threshold,
           own: tuple[bool, bool] = (False, False)) -> str:
    """ "/var is 93 % full (critical at 90 %), full in about 2 h"; ``own``: (warning, critical)
    level is the subject's own (a sensor's high/critical) rather than configured."""
    word = "at" if info.direction == "above" else "under"
    whose = ("the sensor's " if own[0] else "", "the sensor's " if own[1] else "")
    if state == "critical":
        level = f"critical {word} {whose[1]}{fmt(t.critical, info.unit)}"
    elif t.warning is not None:
        level = f"warning {word} {whose[0]}{fmt(t.warning, info.unit)}"
    elif t.critical is not None:
        level = f"critical {word} {whose[1]}{fmt(t.critical, info.unit)}"
    else:
        level = "no level set"
    return f"{m.text} ({level}){m.extra}"
