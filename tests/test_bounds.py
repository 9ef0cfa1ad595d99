"""Every numeric parameter of every route has limits, in the schema and in what the code does.

Walks /openapi.json: each integer or number parameter (query or path) must publish a minimum and a
maximum, and a value just past either, a huge one and (for numbers) nan/inf must each be a 422
whose message names the parameter, never a 500 or a silent clamp.
"""
from __future__ import annotations

import pytest

# What a required non-numeric parameter gets while a numeric one is probed: any value will do,
# since validation of the numeric one fails first.
FILL = {"metric": "cpu.percent", "source": "x"}


def numeric_params(schema: dict) -> list[tuple[str, dict, dict]]:
    """(path, operation, parameter) for each integer/number parameter of each GET."""
    found = []
    for path, ops in schema["paths"].items():
        op = ops.get("get")
        for p in (op or {}).get("parameters", []):
            if _type(p["schema"]) in ("integer", "number"):
                found.append((path, op, p))
    return found


def _type(s: dict) -> str | None:
    for alt in s.get("anyOf", [s]):
        if alt.get("type") != "null":
            return alt.get("type")
    return None


def _bound(s: dict, key: str):
    """minimum/maximum on the parameter's schema or on its non-null alternative (x: int | None)."""
    if key in s:
        return s[key]
    return next((a[key] for a in s.get("anyOf", []) if key in a), None)


def test_every_numeric_parameter_has_a_minimum_and_a_maximum(client):
    params = numeric_params(client.get("/openapi.json").json())
    assert len(params) >= 6  # lines, seconds, limit, pid, started, every, ... : the walk sees them
    missing = [f"{path} {p['name']}: {key}" for path, _, p in params
               for key in ("minimum", "maximum") if _bound(p["schema"], key) is None]
    assert missing == []


def cases(schema: dict):
    for path, op, p in numeric_params(schema):
        lo, hi = _bound(p["schema"], "minimum"), _bound(p["schema"], "maximum")
        if lo is None or hi is None:
            continue  # reported by the test above
        step = 1 if _type(p["schema"]) == "integer" else 0.5
        bad = [lo - step, hi + step, 10 ** 40, -(10 ** 40)]
        if _type(p["schema"]) == "number":
            bad += ["nan", "inf", "-inf"]
        for value in bad:
            yield path, op, p, value


def _request(path: str, op: dict, probed: dict, value) -> tuple[str, dict]:
    query = {}
    for p in op.get("parameters", []):
        if p is probed:
            v = value
        elif p.get("required"):
            v = FILL.get(p["name"], 1 if _type(p["schema"]) in ("integer", "number") else "x")
        else:
            continue
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", str(v))
        else:
            query[p["name"]] = str(v)
    return path, query


def test_values_out_of_range_are_a_422_naming_the_parameter(client):
    schema = client.get("/openapi.json").json()
    wrong = []
    n = 0
    for path, op, p, value in cases(schema):
        url, query = _request(path, op, p, value)
        r = client.get(url, params=query)
        n += 1
        detail = r.json().get("detail", "") if r.headers.get("content-type", "").startswith("application/json") else r.text
        if r.status_code != 422 or f"{p['name']}:" not in str(detail):
            wrong.append(f"{url}?{query} -> {r.status_code} {str(detail)[:120]}")
    assert n >= 24
    assert wrong == []


# Routes kept out of the schema (pages, fragments) have the same limits; probed by hand.
PAGES = [
    ("/processes?limit=0", "limit"), ("/processes?limit=10001", "limit"),
    ("/fragments/processes?toggle=4194305", "toggle"), ("/fragments/processes?toggle=0", "toggle"),
    ("/processes/4194305", "pid"), ("/processes/0", "pid"), ("/fragments/processes/99999999999", "pid"),
    ("/processes/1?started=nan", "started"), ("/processes/1?started=1e12", "started"),
    ("/logs?lines=0", "lines"), ("/logs?lines=100001", "lines"), ("/fragments/logs?lines=-1", "lines"),
    ("/logs/stream?lines=99999999999999999999", "lines"),
]


def test_page_parameters_out_of_range_are_a_422_naming_them(client):
    wrong = [f"{url} -> {r.status_code}" for url, name in PAGES
             if (r := client.get(url)).status_code != 422 or f"{name}:" not in r.text]
    assert wrong == []
