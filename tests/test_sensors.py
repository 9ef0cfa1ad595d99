"""Sensors: shaping psutil's readings, and a host without sensors being a fact, not an error.

This machine is a VM without sensors, so readings *with* sensors are literal input, and the
"missing" cases fake psutil's sensor functions (the only thing faked here).
"""
from __future__ import annotations

from collections import namedtuple

import psutil
import pytest

from monitor.collectors import sensors as sensors_mod
from monitor.collectors.sensors import SensorsCollector, shape

TEMPS = {
    "nvme": [{"label": "Composite", "current": 38.9, "high": 84.8, "critical": 84.8}],
    "coretemp": [{"label": "Package id 0", "current": 52.0, "high": 100.0, "critical": 100.0},
                 {"label": "", "current": 49.0, "high": None, "critical": None}],
}
# The shapes psutil documents for its sensor functions (its own classes move between versions).
shwtemp = namedtuple("shwtemp", "label current high critical")
sfan = namedtuple("sfan", "label current")
sbattery = namedtuple("sbattery", "percent secsleft power_plugged")
FANS = {"thinkpad": [{"label": "fan1", "current": 2410}]}


def test_shape_temperatures_fans_and_battery():
    data = shape(TEMPS, FANS, {"percent": 87.04, "secsleft": 10440, "power_plugged": False})
    assert data.present
    assert [(t.chip, t.label) for t in data.temperatures] == [
        ("coretemp", "Package id 0"), ("coretemp", "coretemp"), ("nvme", "Composite")]
    assert data.temperatures[1].high is None
    assert data.hottest == 52.0
    assert data.fans[0].current == 2410
    assert data.battery.percent == 87.0 and data.battery.secsleft == 10440.0


def test_battery_plugged_in_has_no_time_left():
    data = shape({}, {}, {"percent": 100, "secsleft": psutil.POWER_TIME_UNLIMITED, "power_plugged": True})
    assert data.present and data.battery.secsleft is None and data.hottest is None
    unknown = shape({}, {}, {"percent": 40, "secsleft": psutil.POWER_TIME_UNKNOWN, "power_plugged": None})
    assert unknown.battery.secsleft is None


def test_missing_sensors_is_not_an_error():
    data = shape({}, {}, None)
    assert not data.present
    assert data.temperatures == [] and data.fans == [] and data.battery is None
    assert SensorsCollector().series(data) == {}


@pytest.fixture
def a_chip(tmp_path, monkeypatch):
    """A /sys/class with one hwmon chip: psutil's sensor functions (faked in these tests) are
    asked, as on a host with sensors."""
    (tmp_path / "hwmon" / "hwmon0").mkdir(parents=True)
    monkeypatch.setattr(sensors_mod, "SYS_CLASS", str(tmp_path))


@pytest.mark.parametrize("entries, asked", [
    ((), False), (("thermal/cooling_device0",), False), (("power_supply",), False),
    (("hwmon/hwmon3",), True), (("thermal/thermal_zone0",), True), (("power_supply/BAT0",), True),
])
def test_psutil_is_asked_only_when_there_is_something_to_read(entries, asked, tmp_path, monkeypatch):
    for e in entries:
        (tmp_path / e).mkdir(parents=True)
    monkeypatch.setattr(sensors_mod, "SYS_CLASS", str(tmp_path))
    calls = []
    for fn in ("sensors_temperatures", "sensors_fans", "sensors_battery"):
        monkeypatch.setattr(sensors_mod.psutil, fn, lambda fn=fn: calls.append(fn) or ({} if fn != "sensors_battery" else None))
    data = SensorsCollector().collect(0.0)
    assert not data.present and bool(calls) is asked
    assert sensors_mod.nothing_to_read(str(tmp_path)) is not asked


def test_this_hosts_sensors_are_what_psutil_finds():
    data = SensorsCollector().collect(0.0)
    assert data.present == bool(psutil.sensors_temperatures() or psutil.sensors_fans()
                                or psutil.sensors_battery())


def test_collector_when_psutil_has_no_sensor_functions(a_chip, monkeypatch):
    # e.g. a platform where psutil documents them as unavailable.
    for fn in ("sensors_temperatures", "sensors_fans", "sensors_battery"):
        monkeypatch.delattr(sensors_mod.psutil, fn, raising=False)
    data = SensorsCollector().collect(0.0)
    assert not data.present


def test_collector_with_faked_sensors(a_chip, monkeypatch):
    monkeypatch.setattr(sensors_mod.psutil, "sensors_temperatures",
                        lambda: {"k10temp": [shwtemp("Tctl", 61.5, 95.0, 105.0)]})
    monkeypatch.setattr(sensors_mod.psutil, "sensors_fans", lambda: {"it87": [sfan("fan2", 1200)]})
    monkeypatch.setattr(sensors_mod.psutil, "sensors_battery", lambda: sbattery(55.0, 3600, False))
    c = SensorsCollector()
    data = c.collect(0.0)
    assert data.present and data.hottest == 61.5
    assert data.temperatures[0].critical == 105.0
    assert c.series(data) == {"sensors.hottest": 61.5}


def test_card_without_sensors_says_so_and_is_not_unavailable(a_chip, make_client, monkeypatch):
    monkeypatch.setattr(sensors_mod.psutil, "sensors_temperatures", lambda: {})
    monkeypatch.setattr(sensors_mod.psutil, "sensors_fans", lambda: {})
    monkeypatch.setattr(sensors_mod.psutil, "sensors_battery", lambda: None)
    client = make_client(collectors=[SensorsCollector()])
    r = client.get("/api/sensors")
    assert r.status_code == 200
    assert r.json()["sensors"]["present"] is False
    html = client.get("/dashboard").text
    assert "no sensors on this host" in html
    assert "could not be read" not in html


def test_card_with_sensors_lists_them(a_chip, make_client, monkeypatch):
    monkeypatch.setattr(sensors_mod.psutil, "sensors_temperatures",
                        lambda: {"acpitz": [shwtemp("<b>zone</b>", 47.0, None, 98.0)]})
    client = make_client(collectors=[SensorsCollector()])
    html = client.get("/dashboard").text
    assert "47 °C" in html and "98 °C" in html
    assert "&lt;b&gt;zone&lt;/b&gt;" in html and "<b>zone</b>" not in html  # driver labels escaped


def test_sensors_on_this_machine_are_collected_without_error(client):
    # The real psutil on this VM: whatever it finds, the area is collected (not unavailable).
    r = client.get("/api/sensors")
    assert r.status_code == 200
    body = r.json()["sensors"]
    assert body["present"] == bool(body["temperatures"] or body["fans"] or body["battery"])


def test_same_driver_twice_gets_unique_labels():
    # Two NVMe drives and two sockets: psutil lists them under one driver name each.
    temps = {"nvme": [{"label": "Composite", "current": 38.9, "high": 84.8, "critical": 84.8},
                      {"label": "Composite", "current": 41.0, "high": 84.8, "critical": 84.8}],
             "coretemp": [{"label": "Core 0", "current": 50.0}, {"label": "Core 1", "current": 51.0},
                          {"label": "Core 0", "current": 55.0}, {"label": "", "current": 40.0},
                          {"label": "", "current": 41.0}]}
    fans = {"dell_smm": [{"label": "", "current": 2000}, {"label": "", "current": 2100}]}
    data = shape(temps, fans, None)
    assert [(t.chip, t.label, t.current) for t in data.temperatures] == [
        ("coretemp", "Core 0", 50.0), ("coretemp", "Core 1", 51.0), ("coretemp", "Core 0 #2", 55.0),
        ("coretemp", "coretemp", 40.0), ("coretemp", "coretemp #2", 41.0),
        ("nvme", "Composite", 38.9), ("nvme", "Composite #2", 41.0)]
    assert [f.label for f in data.fans] == ["dell_smm", "dell_smm #2"]
