"""schemathesis against /openapi.json, in-process (ASGI, the app's lifespan running): every
documented endpoint gets generated valid and invalid input; zero 5xx responses and zero responses
that break the published schema (status codes, content types, bodies).

Bounded: a few dozen examples per endpoint, so the whole run stays well under a minute. The SSE
stream is documented but never ends, so it is left to tests/test_stream.py.
"""
from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance
from hypothesis import HealthCheck, settings

from main import create_app
from tests.conftest import AUTH, make_settings

# tick=60: one snapshot for the whole run, so the fuzzer measures the API, not the sampler.
# schemathesis' in-process client calls itself "testserver": a configured host name here, as an
# operator's would be (the Host check refuses names it was not told about). AUTH: the full token.
app = create_app(make_settings(tick=60, allowed_hosts=["testserver"]))
schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH).exclude(path="/stream")


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    # call_and_validate runs schemathesis' default checks: not_a_server_error, status code,
    # content type, response headers and body against the schema, and that invalid input is
    # rejected. Left out: "schema-valid input must be accepted". Some validity cannot be written
    # in JSON Schema (is this a regular expression? a time like "15m"? does this source or PID
    # exist?), and those answers are documented 4xx with a message, which is what we want.
    case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])
