"""The JSON API against the real host: status, schema, units, and agreement between endpoints."""
from __future__ import annotations

import socket
import time

import psutil
import pytest

from monitor.collectors.cpu import Cpu
from monitor.collectors.memory import Memory
from monitor.collectors.system import System, parse_os_release
from tests.htmlcheck import inline_code

AREAS = {"system": System, "cpu": Cpu, "memory": Memory}


@pytest.fixture
def slow_client(make_client):
    """A console whose snapshot does not change during the test (tick = 60 s)."""
    c = make_client(tick=60)
    assert c.get("/api/snapshot").json()["seq"] == 1  # taken by the lifespan; the next is 60 s away
    return c


@pytest.mark.parametrize("area", AREAS)
def test_area_endpoint_schema(slow_client, area):
    r = slow_client.get(f"/api/{area}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"seq", "taken_at", area}
    assert isinstance(body["seq"], int) and body["seq"] >= 1
    assert abs(body["taken_at"] - time.time()) < 120
    AREAS[area].model_validate(body[area])  # every field present with the documented type


def test_snapshot_agrees_with_single_endpoints(slow_client):
    snap = slow_client.get("/api/snapshot").json()
    assert snap["unavailable"] == {}
    for area in AREAS:
        single = slow_client.get(f"/api/{area}").json()
        assert single["seq"] == snap["seq"] and single["taken_at"] == snap["taken_at"]
        assert single[area] == snap[area]


def test_units_match_the_host(slow_client):
    snap = slow_client.get("/api/snapshot").json()
    mem, cpu, sysinfo = snap["memory"], snap["cpu"], snap["system"]
    vm = psutil.virtual_memory()
    assert mem["total"] == vm.total  # bytes, not KiB or GiB
    assert 0 < mem["available"] <= mem["total"] and 0 <= mem["percent"] <= 100
    assert cpu["count"] == psutil.cpu_count() == len(cpu["per_core"])
    assert 0 <= cpu["percent"] <= 100 and all(0 <= p <= 100 for p in cpu["per_core"])
    assert cpu["load_per_core"] == pytest.approx(cpu["load1"] / cpu["count"], abs=0.01)
    assert cpu["ctx_switches_per_s"] > 0  # any running Linux switches context every second
    assert sysinfo["hostname"] == socket.gethostname()
    assert sysinfo["boot_time"] == psutil.boot_time()
    assert sysinfo["uptime"] == pytest.approx(time.time() - psutil.boot_time(), abs=120)
    with open("/etc/os-release") as f:
        assert sysinfo["os_pretty_name"] == parse_os_release(f.read())["PRETTY_NAME"]


def test_seq_advances_each_tick(make_client):
    c = make_client(tick=0.2)
    first = c.get("/api/cpu").json()
    deadline = time.monotonic() + 5
    later = first
    while later["seq"] <= first["seq"] + 1 and time.monotonic() < deadline:
        time.sleep(0.1)
        later = c.get("/api/cpu").json()
    assert later["seq"] >= first["seq"] + 2 and later["taken_at"] > first["taken_at"]


def test_openapi_documents_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/snapshot", "/api/system", "/api/cpu", "/api/memory", "/healthz"):
        assert path in spec["paths"], path
    cpu_schema = spec["paths"]["/api/cpu"]["get"]["responses"]["200"]["content"]["application/json"]
    assert cpu_schema["schema"]["$ref"].endswith("CpuResponse")
    assert "percent" in spec["components"]["schemas"]["Cpu"]["properties"]
    assert client.get("/docs").status_code == 200


def test_healthz_and_root_redirect(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/dashboard"


def test_unknown_paths_are_clear_404s(client):
    r = client.get("/api/nope")
    assert r.status_code == 404 and "no such page: /api/nope" in r.json()["detail"]
    r = client.get("/nope", headers={"accept": "text/html"})
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert "no such page" in r.text


def test_dashboard_renders_complete_without_javascript(client):
    r = client.get("/dashboard")
    assert r.status_code == 200
    html = r.text
    for area in ("cpu", "memory"):
        assert f'id="{area}"' in html and f'sse-swap="{area}"' in html
    assert 'sse-connect="/stream"' in html and socket.gethostname() in html
    assert 'class="spark' in html  # sparklines are in the first response, not added by script
    assert inline_code(html) == []


def test_security_headers(client):
    for path in ("/dashboard", "/api/cpu", "/healthz", "/static/app.css"):
        csp = client.get(path).headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
