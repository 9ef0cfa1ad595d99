"""The vendored front-end files are exactly the published htmx 2.0.11 and htmx-ext-sse 2.2.4."""
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
    assert set(sums) == {"htmx.min.js", "sse.min.js"}
    for name, digest in sums.items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name


def test_vendored_versions():
    assert 'version:"2.0.11"' in (STATIC / "htmx.min.js").read_text()
    assert 'defineExtension("sse"' in (STATIC / "sse.min.js").read_text()


def test_static_files_are_served_with_csp(client):
    r = client.get("/static/htmx.min.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/static/favicon.svg").status_code == 200
