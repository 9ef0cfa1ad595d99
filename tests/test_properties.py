"""Property tests (hypothesis) for every parser of request input.

- Query parameters of every GET route, pages and API alike, found from the app itself so routes
  added later are covered: whatever the values, never a 5xx; a 422 says which parameter was wrong.
- The Authorization header (views/auth.py): any bytes give a secret or None, never an exception,
  and what a client encodes is what the server reads.
- The CSRF guard's header check and the access log's query masking never fail on any input.
"""
from __future__ import annotations

import base64
import os
import re
import string

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from main import create_app
from monitor.logconfig import mask_query
from monitor.settings import Settings
from views.auth import presented_secret
from views.security import cross_site


def query_names(dependant) -> list[str]:
    """Query parameter names of a route and of every dependency it uses."""
    names = [p.alias for p in dependant.query_params]
    for sub in dependant.dependencies:
        names += query_names(sub)
    return names


def get_routes(app) -> list[tuple[str, list[str]]]:
    """(path with path parameters filled in, names of its query parameters) of each GET route,
    except streams, which never end."""
    found = []
    for route in app.routes:
        contexts = (route.effective_route_contexts() if hasattr(route, "effective_route_contexts")
                    else [route])
        for ctx in contexts:
            dependant = getattr(ctx, "dependant", None)
            if "GET" not in (getattr(ctx, "methods", None) or ()) or dependant is None:
                continue
            if "stream" in ctx.path or getattr(ctx, "is_sse_stream", False):
                continue
            names = sorted(set(query_names(dependant)))
            found.append((re.sub(r"\{[^}]+\}", str(os.getpid()), ctx.path), names))
    return sorted(found)


APP = create_app(Settings(tick=60))
ROUTES = get_routes(APP)


@pytest.fixture(scope="module")
def client():
    with TestClient(APP, raise_server_exceptions=False) as c:
        yield c


# Values a person or a script might send: numbers at and past every bound, non-numbers, text
# with markup and control characters, empty and long strings.
values = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "0", "-1", "1e309", "nan", "inf", "-inf", "true", "null", "[]",
                     "<script>x</script>", "../../etc/passwd", "%00", "a" * 5000, "(?P<", "*",
                     "15m", "2h", "1d", "cpu", "asc", "desc", "dark", "light"]),
    st.text(max_size=40),
)


def queries(names: list[str]):
    keys = st.sampled_from(names) if names else st.nothing()
    return st.dictionaries(st.one_of(keys, st.text(string.ascii_lowercase, min_size=1, max_size=8)),
                           values, max_size=4)


def test_routes_are_found():
    paths = [p for p, _ in ROUTES]
    assert "/api/cpu" in paths and "/dashboard" in paths


@pytest.mark.parametrize("path, names", ROUTES, ids=[p for p, _ in ROUTES])
def test_query_parameters_never_give_a_server_error(client, path, names):
    @settings(max_examples=20, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(query=queries(names))
    def check(query):
        r = client.get(path, params=query, follow_redirects=False)
        assert r.status_code < 500 or r.status_code == 503, (path, query, r.status_code)
        if r.status_code == 422:
            text = r.text
            # names what was wrong: a parameter sent, or a required one missing
            assert any(name in text for name in [*query, *names]), (path, query, text[:300])

    check()


@given(st.binary(max_size=300))
def test_any_authorization_header_parses_or_is_refused(raw):
    secret = presented_secret({b"authorization": raw})
    assert secret is None or (isinstance(secret, bytes) and secret)


tokens = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=16, max_size=80)


@given(token=tokens, user=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E,
                                                blacklist_characters=":"), max_size=20),
       scheme=st.sampled_from(["Basic", "basic", "BASIC"]))
def test_basic_round_trip(token, user, scheme):
    header = f"{scheme} " + base64.b64encode(f"{user}:{token}".encode()).decode()
    assert presented_secret({b"authorization": header.encode()}) == token.encode()


@given(token=tokens, scheme=st.sampled_from(["Bearer", "bearer", "BEARER"]))
def test_bearer_round_trip(token, scheme):
    assert presented_secret({b"authorization": f"{scheme} {token}".encode()}) == token.encode()


@given(st.dictionaries(st.sampled_from([b"origin", b"host", b"sec-fetch-site"]), st.binary(max_size=80)))
def test_cross_site_check_never_fails(headers):
    reason = cross_site(headers)
    assert reason is None or isinstance(reason, str)


@given(secret=tokens.filter(lambda t: not set(t) & set("&;#")),
       name=st.sampled_from(["token", "TOKEN", "password", "access_token", "api_key", "secret"]),
       before=st.text(string.ascii_lowercase + "=&", max_size=20))
def test_secret_query_values_never_reach_the_log(secret, name, before):
    path = f"/api/cpu?{before}&{name}={secret}&x=1"
    masked = mask_query(path)
    assert f"{name}=***&x=1" in masked and f"={secret}" not in masked


# --- the parsers behind those parameters, called directly --------------------------------------
from monitor.logs.filters import FilterError, LogFilter, parse_time  # noqa: E402
from monitor.masking import mask_argv  # noqa: E402
from views.process_table import _state_of_url, parse_open  # noqa: E402

TEXT = st.one_of(st.none(), st.text(max_size=60), values)


@settings(max_examples=300, deadline=None)
@given(q=TEXT, regex=TEXT, level=TEXT, since=TEXT, until=TEXT, unit=TEXT)
def test_log_filter_parses_or_says_what_is_wrong(q, regex, level, since, until, unit):
    try:
        LogFilter.parse(q=q, regex=regex, level=level, since=since, until=until, unit=unit)
    except FilterError as e:  # the only way to refuse: a message for a 422, naming the field
        assert str(e).split(":")[0] in ("q", "regex", "level", "since", "until", "unit")


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=40))
def test_time_parses_to_a_finite_number_or_is_refused(value):
    try:
        t = parse_time(value, "since", now=1_800_000_000.0)
    except FilterError:
        return
    assert t == t and abs(t) < 1e12  # not NaN, not infinite, not absurd


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=60))
def test_open_rows_parse_to_pids_or_are_refused(value):
    try:
        pids = parse_open(value)
    except ValueError:
        return
    assert all(isinstance(p, int) and 0 < p for p in pids)


@settings(max_examples=200, deadline=None)
@given(url=st.text(max_size=80))
def test_current_url_header_never_raises(url):
    _state_of_url(url)  # any header text: a table state or None, never an exception


@settings(max_examples=300, deadline=None)
@given(secret=st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=6, max_size=20)
       .filter(lambda s: s.isalnum()),
       key=st.sampled_from(["--password=", "--token=", "password=", "api_key=", "--secret="]))
def test_masked_arguments_never_show_the_secret(secret, key):
    out = " ".join(mask_argv(["prog", key + secret, "--verbose"]))
    assert secret not in out and "--verbose" in out
