"""Sensors: temperatures, fans and battery, where the hardware and psutil offer them.

Sample (a laptop):
    temperatures: coretemp "Package id 0" current=52.0 high=100.0 critical=100.0
                  nvme "Composite" current=38.9 high=84.8 critical=84.8
    fans:         thinkpad "fan1" rpm=2410
    battery:      percent=87.0 secsleft=10440 power_plugged=False
    hottest=52.0 present=True

A VM or container usually has none of these: psutil returns empty dicts and None, and the area
is still collected fine with ``present=False`` (the card says "no sensors on this host"). That is
a fact about the host, not a failure.

Chip names and labels come from hwmon files that drivers (and out-of-tree modules) fill in:
they are cleaned where they are read (monitor/text.py).

History series (``series()``): ``sensors.hottest`` (the highest current temperature, °C).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import psutil

from monitor.text import clean

from .base import AreaModel

LABEL_LIMIT = 128


class Temperature(AreaModel):
    chip: str  # the hwmon driver: "coretemp", "k10temp", "nvme", "acpitz"
    label: str  # "Package id 0", "Core 1"; the chip name again when the driver gives none
    current: float  # °C
    high: float | None
    critical: float | None


class Fan(AreaModel):
    chip: str
    label: str
    current: int  # RPM


class Battery(AreaModel):
    percent: float
    secsleft: float | None  # seconds of charge left; None when plugged in or unknown
    power_plugged: bool | None


class Sensors(AreaModel):
    present: bool  # False: this host exposes no temperature, fan or battery (a VM, a container)
    temperatures: list[Temperature]
    fans: list[Fan]
    battery: Battery | None
    hottest: float | None  # highest current temperature, °C


def unique_labels(chip: str, entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """One label per entry, unique within the chip. psutil groups devices by driver, so two NVMe
    drives both give nvme "Composite" and two sockets two coretemp "Core 0": the second becomes
    "Composite #2", so verdicts, events and /metrics series stay apart.

    >>> unique_labels("nvme", [{"label": "Composite"}, {"label": "Composite"}, {"label": ""}])
    ['Composite', 'Composite #2', 'nvme']
    """
    seen: dict[str, int] = {}
    out = []
    for e in entries:
        label = e.get("label") or chip
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


def shape(temps: Mapping[str, Sequence[Mapping[str, Any]]],
          fans: Mapping[str, Sequence[Mapping[str, Any]]],
          battery: Mapping[str, Any] | None) -> Sensors:
    """psutil's sensors_temperatures/fans (entries as dicts) and sensors_battery -> the model."""
    t = [Temperature(chip=chip, label=label, current=e["current"],
                     high=e.get("high"), critical=e.get("critical"))
         for chip, entries in sorted(temps.items())
         for e, label in zip(entries, unique_labels(chip, entries)) if e.get("current") is not None]
    f = [Fan(chip=chip, label=label, current=int(e["current"]))
         for chip, entries in sorted(fans.items()) for e, label in zip(entries, unique_labels(chip, entries))]
    b = None
    if battery is not None:
        secs = battery.get("secsleft")
        # psutil's POWER_TIME_UNLIMITED (-2, plugged in) and POWER_TIME_UNKNOWN (-1) are negative.
        b = Battery(percent=round(float(battery["percent"]), 1),
                    secsleft=None if secs is None or secs < 0 else float(secs),
                    power_plugged=battery.get("power_plugged"))
    return Sensors(present=bool(t or f or b), temperatures=t, fans=f, battery=b,
                   hottest=max((x.current for x in t), default=None))


SYS_CLASS = "/sys/class"


def nothing_to_read(root: str | None = None) -> bool:
    """No hwmon chip, no thermal zone, no power supply: all psutil's three functions would find
    is nothing (they read /sys/class/hwmon, thermal_zone* and power_supply), and they glob six
    patterns to find it, 0.5 ms a read on a VM (issue 19). A chip loaded later is seen at the
    next read: this is a listing of three directories, every read."""
    root = SYS_CLASS if root is None else root
    for name in ("hwmon", "thermal", "power_supply"):
        try:
            entries = os.listdir(f"{root}/{name}")
        except OSError:
            continue
        if any(e.startswith("thermal_zone") for e in entries) if name == "thermal" else entries:
            return False
    return True


def read() -> tuple[dict, dict, dict | None]:
    if nothing_to_read():
        return {}, {}, None
    # Not every platform has every function (psutil documents them as "availability: Linux, ...").
    temps = psutil.sensors_temperatures() if hasattr(psutil, "sensors_temperatures") else {}
    fans = psutil.sensors_fans() if hasattr(psutil, "sensors_fans") else {}
    battery = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
    return (
        {clean(chip, LABEL_LIMIT): [_entry(e) for e in entries] for chip, entries in (temps or {}).items()},
        {clean(chip, LABEL_LIMIT): [_entry(e) for e in entries] for chip, entries in (fans or {}).items()},
        battery._asdict() if battery is not None else None,
    )


def _entry(e: Any) -> dict[str, Any]:
    d = e._asdict()
    d["label"] = clean(d.get("label"), LABEL_LIMIT)
    return d


class SensorsCollector:
    name = "sensors"
    model = Sensors
    interval = 2.0  # hwmon reads are slow-ish files and temperatures change slowly
    unwatched_interval = 5.0  # nobody looking: sensors_temperature holds 30 s

    def collect(self, now: float) -> Sensors:
        return shape(*read())

    def series(self, data: Sensors) -> dict[str, float]:
        return {} if data.hottest is None else {"sensors.hottest": data.hottest}
