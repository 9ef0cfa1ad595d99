"""The area registry (monitor/areas.py) and the places an area must appear stay in step.

Adding an area is its collector module, its card and its registry entry, plus its checks
(monitor/checks.py, monitor/measures.py) and metric families (views/exporters.py); this file
says which of them is missing (docs/ARCHITECTURE.md, "Adding an area").
"""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from monitor.areas import AREAS, BY_NAME, default_collectors
from monitor.thresholds import CHECKS

ROOT = Path(__file__).resolve().parent.parent
NOT_AREAS = {"__init__", "base"}  # monitor/collectors/ modules that are not an area
AREA_IDS = [a.name for a in AREAS]


def test_every_collector_module_is_a_registered_area():
    modules = {p.stem for p in (ROOT / "monitor" / "collectors").glob("*.py")} - NOT_AREAS
    assert modules == set(BY_NAME), "each monitor/collectors/<area>.py has one entry in AREAS"


@pytest.mark.parametrize("area", AREAS, ids=AREA_IDS)
def test_the_area_has_a_collector_module(area):
    module = importlib.import_module(f"monitor.collectors.{area.name}")
    assert area.collector.__module__ == module.__name__
    assert area.collector.name == area.name
    assert area.collector.__name__ == area.name.capitalize() + "Collector"


@pytest.mark.parametrize("area", AREAS, ids=AREA_IDS)
def test_the_area_has_a_card(area):
    from views.templating import env
    assert (ROOT / "partials" / f"{area.name}.html").is_file()
    assert env.get_template(area.card).filename == str(ROOT / "partials" / f"{area.name}.html")


@pytest.mark.parametrize("area", AREAS, ids=AREA_IDS)
def test_the_area_has_an_exporter_or_says_why_not(area):
    from views.metrics_families import EXPORTERS
    if area.no_exporter:
        assert area.name not in EXPORTERS, f"{area.name} has an exporter: drop no_exporter"
    else:
        assert callable(EXPORTERS.get(area.name)), (
            f"views.metrics.EXPORTERS has no {area.name!r}: add one, or say why in no_exporter")


def test_every_exporter_is_a_registered_area():
    from views.metrics_families import EXPORTERS
    assert set(EXPORTERS) <= set(BY_NAME)


@pytest.mark.parametrize("area", AREAS, ids=AREA_IDS)
def test_the_area_has_checks_or_says_why_not(area):
    assert bool(area.checks) != bool(area.no_checks), (
        f"{area.name}: checks {[c.name for c in area.checks]}, no_checks {area.no_checks!r}")


def test_every_check_is_named_after_its_registered_area():
    for name, (info, _defaults) in CHECKS.items():
        assert info.area in BY_NAME, f"{name}: area {info.area!r} is not registered"
        assert name.startswith(info.area + "_"), f"{name} should be named {info.area}_*"


@pytest.mark.parametrize("area", AREAS, ids=AREA_IDS)
def test_the_areas_checks_are_measured_under_its_word(area):
    from monitor.measures import MEASURES
    measured = [m.check for m in MEASURES.get(area.name, [])]
    assert sorted(measured) == sorted(c.name for c in area.checks)


def test_every_measured_area_is_registered():
    from monitor.measures import MEASURES
    assert set(MEASURES) <= set(BY_NAME)


@pytest.mark.parametrize("area", AREAS, ids=AREA_IDS)
def test_a_test_module_exercises_the_area(area):
    here = Path(__file__).name
    mentions = [p.name for p in (ROOT / "tests").glob("test_*.py")
                if p.name != here and area.collector.__name__ in p.read_text(encoding="utf-8")]
    assert mentions, f"no test module uses {area.collector.__name__}"


def test_the_card_order_is_the_registrys():
    assert [c.name for c in default_collectors()] == AREA_IDS


def test_the_display_scope_follows_the_registry():
    from views.auth import display_may
    for area in AREAS:
        assert display_may(f"/api/{area.name}") is area.display, area.name
