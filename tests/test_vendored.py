"""Vendored front-end files are exactly the published htmx 2.0.11, htmx-ext-sse 2.2.4,
idiomorph 0.8.0 (its htmx extension, dist/idiomorph-ext.min.js) and swagger-ui-dist 5.35.0 (for
/docs), each checked against the sha256 recorded when vendored."""
from __future__ import annotations

import hashlib
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"


def recorded() -> dict[str, str]:
    sums = {}
    for line in (STATIC / "VENDORED.sha256").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    return sums


def test_vendored_files_match_recorded_sha256():
    sums = recorded()
    assert set(sums) == {"htmx.min.js", "sse.min.js", "idiomorph-ext.min.js",
                         "swagger/swagger-ui-bundle.js", "swagger/swagger-ui.css"}
    for name, digest in sums.items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name


def test_vendored_versions():
    assert 'version:"2.0.11"' in (STATIC / "htmx.min.js").read_text()
    assert 'defineExtension("sse"' in (STATIC / "sse.min.js").read_text()
    assert 'defineExtension("morph"' in (STATIC / "idiomorph-ext.min.js").read_text()


def test_static_files_are_served_with_csp(client):
    r = client.get("/static/htmx.min.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/static/favicon.svg").status_code == 200


def test_docs_page_uses_vendored_swagger_without_inline_code(client):
    from tests.htmlcheck import inline_code
    r = client.get("/docs")
    assert r.status_code == 200
    assert '<script src="/static/swagger/swagger-ui-bundle.js"' in r.text
    assert "cdn" not in r.text.lower() and inline_code(r.text) == []
    assert client.get("/redoc").status_code == 404


def test_docs_render_in_chromium_under_the_csp(live_server, watched_page):
    page = watched_page.page
    page.goto(live_server.url + "/docs")
    page.locator(".opblock-summary-path", has_text="/api/cpu").first.wait_for(timeout=15_000)
    assert page.locator(".opblock").count() >= 10
    watched_page.assert_clean()
