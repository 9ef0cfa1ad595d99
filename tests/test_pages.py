"""The pages' display options over HTTP (no browser): ?theme= and ?refresh= on every page within
server-enforced bounds, the root redirect, /stream?every=N and the shared SSE bytes. The same
pages in Chromium: tests/test_wall_browser.py, tests/test_dashboard_browser.py."""
from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("path", ["/dashboard", "/wall"])
def test_theme_option(client, path):
    default = "dark" if path == "/wall" else "auto"
    assert f'data-theme="{default}"' in client.get(path).text
    for theme in ("dark", "light", "auto"):
        r = client.get(path, params={"theme": theme})
        assert r.status_code == 200 and f'data-theme="{theme}"' in r.text


@pytest.mark.parametrize("query, says", [
    ({"theme": "purple"}, "theme"),
    ({"theme": "<script>"}, "theme"),
    ({"refresh": "0"}, "refresh"),
    ({"refresh": "301"}, "refresh"),
    ({"refresh": "fast"}, "refresh"),
])
@pytest.mark.parametrize("path", ["/dashboard", "/wall"])
def test_bad_display_option_is_a_422_page(client, path, query, says):
    r = client.get(path, params=query)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert says in r.text
    assert "<script>" not in r.text.split("</head>", 1)[1]  # the bad value is not echoed raw


def test_root_redirect_keeps_the_display_options(client):
    r = client.get("/", params={"theme": "light", "refresh": "5"}, follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/dashboard?theme=light&refresh=5"


def test_refresh_sets_the_stream_and_the_stale_delay(client):
    html = client.get("/wall", params={"refresh": 5}).text
    assert 'sse-connect="/stream?every=5&amp;view=wall"' in html
    assert "stale-after-20" in html  # 2 x 5 s + 2 s, rounded up to a step in app.css
    html = client.get("/wall").text
    assert 'sse-connect="/stream?view=wall"' in html and "stale-after-5" in html
    css = client.get("/static/app.css").text
    for step in (10, 20, 40, 80, 160, 320, 640):
        assert f".stale-after-{step} .stale-banner" in css


def test_refresh_below_the_tick_is_refused(make_client):
    slow = make_client(tick=2.0)
    r = slow.get("/dashboard", params={"refresh": 1})
    assert r.status_code == 422 and "at least the sampling tick (2 s)" in r.text
    ok = slow.get("/dashboard", params={"refresh": 10})
    assert 'sse-connect="/stream?every=5"' in ok.text


@pytest.mark.parametrize("every", ["0", "-1", "x", "3601"])
def test_stream_every_is_validated(client, every):
    r = client.get("/stream", params={"every": every})
    assert r.status_code == 422 and "every" in r.json()["detail"]


def test_stream_every_sends_every_nth_snapshot_with_shared_bytes(live_server):
    seqs: list[int] = []
    with httpx.stream("GET", live_server.url + "/stream", params={"every": 2}, timeout=15) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("id:"):
                seqs.append(int(line[3:].strip()))
                if len(seqs) == 4:
                    break
    steps = [b - a for a, b in zip(seqs[1:], seqs[2:])]  # after the first (current) snapshot
    assert len(seqs) == 4 and all(s >= 2 for s in steps), seqs


def test_encoded_tick_bytes_are_memoised_per_snapshot(client):
    from views.stream import event_parts
    store = client.app.state.store
    snap = store.latest
    areas = client.app.state.card_areas
    first = event_parts(store, snap, areas)
    assert event_parts(store, snap, areas) is first  # a second client gets the same object
