"""The hot paths (views/hot.py): /api/<area> and /api/snapshot answered without routing, after
every security layer, with the same bytes the routes give."""
from __future__ import annotations

from monitor.collectors.cpu import CpuCollector
from monitor.collectors.memory import MemoryCollector
from tests.test_sampler import Flaky
from views.hot import HotPaths


def hot_answers(client) -> dict:
    """The answers dict the app's HotPaths middleware serves (found in the built stack)."""
    app = client.app.middleware_stack
    while not isinstance(app, HotPaths):
        app = app.app
    return app.answers


def spy(answers: dict, path: str) -> list[int]:
    """Count the hot path's uses of ``path``'s answer (the route calls the maker directly)."""
    calls: list[int] = []
    make = answers[path]
    answers[path] = lambda snap: (calls.append(1), make(snap))[1]
    return calls


def test_the_hot_path_answers_what_the_route_answers(make_client):
    client = make_client(collectors=[CpuCollector(), MemoryCollector()], tick=60)
    hot = client.get("/api/cpu")
    answers = hot_answers(client)
    assert {"/api/cpu", "/api/memory", "/api/snapshot"} <= answers.keys()
    calls = spy(answers, "/api/cpu")
    again = client.get("/api/cpu")
    routed = client.get("/api/cpu?from=route")  # a query string goes to the route
    assert calls == [1]
    assert hot.status_code == again.status_code == routed.status_code == 200
    assert hot.content == again.content == routed.content  # one tick: the same bytes
    assert hot.headers["content-type"] == routed.headers["content-type"] == "application/json"
    assert hot.headers["content-length"] == str(len(hot.content))
    # Every security layer still wraps it.
    for name in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert again.headers[name] == routed.headers[name]
    head = client.head("/api/snapshot")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(client.get("/api/snapshot").content)


def test_access_control_and_the_host_check_stand_in_front_of_it(make_client):
    client = make_client(collectors=[CpuCollector()], tick=60, credential=False, anonymous="none")
    calls = spy(hot_answers(client), "/api/cpu")
    assert client.get("/api/cpu").status_code == 401
    assert client.get("/api/cpu", headers={"Host": "evil.example"}).status_code == 400
    assert calls == []


def test_an_area_that_could_not_be_read_gets_the_routes_503():
    from fastapi.testclient import TestClient
    from main import create_app
    from tests.conftest import AUTH, make_settings

    flaky = Flaky()
    flaky.mode = "raise"
    with TestClient(create_app(make_settings(tick=60), collectors=[flaky]),
                    base_url="http://127.0.0.1", headers=AUTH) as client:
        r = client.get("/api/cpu")
    assert r.status_code == 503 and "cpu unavailable" in r.json()["detail"]
