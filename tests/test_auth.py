"""Access control (views/auth.py, views/credentials.py, views/login.py): every route without,
with a wrong and with a right credential; the anonymous and display scopes; the metrics token;
the generated token, login cookies and rate limits; secrets never in a log line. Privilege and
Host-header cases against a real server are in tests/test_deputy.py.

Routes are enumerated from the app, so a router added later is covered without editing this file.
"""
from __future__ import annotations

import asyncio
import base64
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
import sys

import httpx
import pytest

from tests.conftest import ROOT, free_port
from views import auth, credentials

TOKEN = "full-token-0123456789abcdef"
DISPLAY = "display-token-0123456789abcdef"
WRONG = "wrong-token-0123456789abcdefgh"

# Paths that must stay closed to the display token whether or not their router exists yet:
# the middleware decides before routing, so a future router is closed from its first day.
DISPLAY_DENIED = ["/processes", "/processes/1", "/logs", "/logs/secure", "/api/processes",
                  "/api/processes/1", "/api/logs", "/api/snapshot", "/metrics", "/docs",
                  "/openapi.json", "/fragments/processes", "/dashboard/../processes",
                  "/api/cpu/../processes", "/api/cpux", "/wallpaper"]


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def basic(secret: str, user: str = "wall") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def routes(app):
    """(path, methods) of every route; FastAPI 0.16x keeps included routers as wrappers whose
    effective routes carry the final path."""
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            for ctx in route.effective_route_contexts():
                yield ctx.path, ctx.methods
        else:
            yield getattr(route, "path", ""), getattr(route, "methods", None)


def get_paths(app) -> list[str]:
    """Every GET route of the app, with path parameters filled in ("1": pid 1 always exists)."""
    paths = []
    for path, methods in routes(app):
        if "GET" in (methods or ()):
            paths.append(re.sub(r"\{[^}]+\}", "1", path))
    paths.append("/static/app.css")
    return sorted(set(paths))


@pytest.fixture
def secured(make_client):
    """No anonymous access at all: every protected route must refuse a missing credential."""
    return make_client(token=TOKEN, display_token=DISPLAY, tick=60, anonymous="none",
                       login_attempts=1000)


@pytest.fixture
def default(make_client):
    """The defaults: anonymous loopback requests get the display scope."""
    return make_client(token=TOKEN, display_token=DISPLAY, tick=60, login_attempts=1000)


def protected(app) -> list[str]:
    # Streams never end (a TestClient would wait forever): /stream is checked on a live server.
    return [p for p in get_paths(app) if p not in auth.OPEN_EXACT and not p.startswith("/static/")
            and not p.endswith("/stream")]


def test_routes_need_a_credential(secured):
    paths = protected(secured.app)
    assert {"/dashboard", "/api/cpu", "/api/snapshot", "/openapi.json", "/metrics"} <= set(paths)
    for path in paths:
        for headers in ({}, bearer(WRONG), basic(WRONG), basic(TOKEN[:-1])):
            r = secured.get(path, headers=headers, follow_redirects=False)
            assert r.status_code == 401, (path, headers, r.status_code)
            challenges = r.headers.get_list("www-authenticate")
            assert any(c.startswith("Basic ") for c in challenges), challenges
            assert any(c.startswith("Bearer ") for c in challenges), challenges
            assert TOKEN not in r.text and DISPLAY not in r.text
        for headers in (bearer(TOKEN), basic(TOKEN), basic(TOKEN, user="")):
            r = secured.get(path, headers=headers, follow_redirects=False)
            assert r.status_code not in (401, 403), (path, r.status_code)
            assert r.status_code < 500 or r.status_code == 503, (path, r.status_code)


def test_anonymous_loopback_gets_the_display_scope_only(default):
    """Any local user can reach 127.0.0.1: without a credential they see the overview, never
    what the console's privileges read for it (command lines, open files, logs, /metrics)."""
    paths = protected(default.app)
    for path in paths:
        r = default.get(path, follow_redirects=False)
        if auth.display_may(path):
            assert r.status_code not in (401, 403), (path, r.status_code)
        else:
            assert r.status_code == 401, (path, r.status_code)
    for path in ("/api/processes", "/api/processes/1", "/api/logs", "/api/snapshot", "/metrics",
                 "/api/events", "/openapi.json"):
        assert default.get(path).status_code == 401, path
    # A browser asking for a full-scope page is sent to the login form, and back afterwards.
    r = default.get("/processes?sort=cpu", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fprocesses%3Fsort%3Dcpu"


def test_anonymous_full_is_an_explicit_choice(make_client):
    c = make_client(token=TOKEN, tick=60, anonymous="full")
    assert c.get("/api/processes").status_code == 200
    # ... on loopback only: through a proxy it still needs the token
    assert c.get("/api/processes", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 401


def test_display_scope_renders_no_links_to_full_pages(default):
    for headers in ({}, bearer(DISPLAY)):
        page = default.get("/dashboard", headers=headers).text
        for href in ('href="/processes', 'href="/logs', 'href="/docs'):
            assert href not in page, (headers, href)
        assert 'href="/login?next=' in page
    full = default.get("/dashboard", headers=bearer(TOKEN)).text
    assert 'href="/processes"' in full and 'action="/logout"' in full


def test_401_says_what_to_send(secured):
    r = secured.get("/api/cpu")
    assert r.headers["content-type"] == "application/json"
    assert "Bearer" in r.json()["detail"]
    page = secured.get("/api/processes", headers={"Accept": "text/html"})
    assert page.status_code == 401 and "credential is required" in page.json()["detail"]


def test_right_credential_gets_the_data(secured):
    for headers in (bearer(TOKEN), basic(TOKEN, user="anyone")):
        r = secured.get("/api/cpu", headers=headers)
        assert r.status_code == 200 and r.json()["cpu"]["count"] >= 1


def test_open_paths_need_nothing(secured):
    assert secured.get("/healthz").json() == {"status": "ok"}
    assert secured.get("/static/app.css").status_code == 200
    assert secured.get("/login").status_code == 200


def test_token_in_query_string_is_not_accepted(secured):
    for q in ("token", "access_token", "auth"):
        assert secured.get(f"/api/cpu?{q}={TOKEN}").status_code == 401


@pytest.mark.parametrize("value", [
    "Basic", "Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(b"user:").decode(), "Bearer", "Bearer   ", "Token " + TOKEN,
    "bearer" + TOKEN, "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
])
def test_malformed_authorization_is_401_not_500(secured, value):
    assert secured.get("/api/cpu", headers={"Authorization": value}).status_code == 401


def test_scheme_is_case_insensitive(secured):
    assert secured.get("/api/cpu", headers={"Authorization": f"bEaReR {TOKEN}"}).status_code == 200


def test_display_token_reaches_the_overview_only(secured):
    allowed = [p for p in protected(secured.app) if auth.display_may(p)]
    assert {"/", "/dashboard", "/api/cpu", "/api/memory", "/api/system"} <= set(allowed)
    for path in allowed:
        for headers in (bearer(DISPLAY), basic(DISPLAY)):
            r = secured.get(path, headers=headers, follow_redirects=False)
            assert r.status_code not in (401, 403), (path, r.status_code)
            assert r.status_code < 500 or r.status_code == 503, (path, r.status_code)
    denied = [p for p in protected(secured.app) if not auth.display_may(p)] + DISPLAY_DENIED
    for path in denied:
        for headers in (bearer(DISPLAY), basic(DISPLAY)):
            r = secured.get(path, headers=headers)
            assert r.status_code == 403, (path, r.status_code)
            assert "display credential" in r.text
        # ... while the full token is not refused by access control there
        assert secured.get(path, headers=bearer(TOKEN)).status_code not in (401, 403)


def test_metrics_token_opens_metrics_only(make_client):
    scrape = "metrics-token-0123456789abcdef"
    c = make_client(token=TOKEN, metrics_token=scrape, tick=60)
    r = c.get("/metrics", headers=bearer(scrape))
    assert r.status_code == 200 and "node_cpu_seconds_total" in r.text
    for path in ("/api/cpu", "/dashboard", "/api/processes", "/api/health"):
        assert c.get(path, headers=bearer(scrape)).status_code == 403, path


def test_display_scope_is_path_exact_not_loose_prefix():
    assert auth.display_may("/api/cpu") and not auth.display_may("/static/htmx.min.js")
    assert auth.display_may("/api/history/cpu.percent")
    for path in ("/api/cpux", "/api/cpu/../processes", "/dashboardx", "/stream2", "/wall/../logs",
                 "/api/snapshot", "/", "/processes"):
        assert auth.display_may(path) is (path == "/")


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_without_credentials_a_proxied_request_is_refused(make_client, header):
    """nginx on this host connects from 127.0.0.1; its forwarding headers give it away."""
    c = make_client(credential=False, tick=60)
    r = c.get("/api/cpu", headers={header: "203.0.113.9"})
    assert r.status_code == 401 and "proxy" in r.json()["detail"]
    assert c.get("/healthz", headers={header: "203.0.113.9"}).status_code == 200  # stays open
    assert c.get("/api/cpu").status_code == 200  # a direct loopback client gets the overview


def test_without_credentials_a_non_loopback_socket_is_refused():
    """`uvicorn main:app --host 0.0.0.0`: a request that arrived on another address (ASGI
    scope["server"]) gets nothing without a credential, not even the display scope."""
    from main import create_app
    from monitor.settings import Settings
    app = create_app(Settings(token=TOKEN, allowed_hosts=["*"]))

    async def fetch(base: str, path: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as c:
            return await c.get(path)

    def get(base: str, path: str) -> httpx.Response:
        # In a thread of its own: another test's Playwright may own this thread's event loop.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, fetch(base, path)).result()

    for base, refused in (("http://10.1.2.3:8000", True), ("http://[2001:db8::1]:8000", True),
                          ("http://127.0.0.1:8000", False), ("http://[::1]:8000", False)):
        r = get(base, "/api/cpu")
        # Loopback passes access control; with no lifespan run here there is no sample: 503.
        assert r.status_code == (401 if refused else 503), (base, r.status_code)
        if refused:
            assert "another host" in r.json()["detail"]
        assert get(base, "/healthz").status_code == 200


def _settings(**over):
    from monitor.settings import Settings
    return Settings(**over)


def test_a_token_is_generated_on_first_start(tmp_path):
    creds = credentials.load_credentials(_settings(data_dir=tmp_path))
    token_file = tmp_path / "token"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    token = token_file.read_text().strip()
    assert len(token) >= 32 and creds.role_of(token.encode()) == "full"
    assert token not in creds.describe() and str(token_file) in creds.describe()
    again = credentials.load_credentials(_settings(data_dir=tmp_path))  # kept across restarts
    assert again.role_of(token.encode()) == "full"
    token_file.chmod(0o644)
    with pytest.raises(credentials.CredentialError, match="chmod 600"):
        credentials.load_credentials(_settings(data_dir=tmp_path))


def test_secret_from_file_and_errors_that_say_how(tmp_path):
    f = tmp_path / "token"
    f.write_text(f"  {TOKEN}\n")
    creds = credentials.load_credentials(_settings(token_file=f))
    assert creds.role_of(TOKEN.encode()) == "full" and creds.role_of(WRONG.encode()) is None
    assert TOKEN not in repr(creds) and TOKEN not in creds.describe()
    assert str(f) in creds.describe()

    cases = [
        (dict(token=TOKEN, token_file=f), "not both"),
        (dict(token_file=tmp_path / "missing"), "cannot read"),
        (dict(token="short"), "shorter than 16"),
        (dict(token="has a space in the middle"), "printable ASCII"),
        (dict(token=TOKEN, display_token=TOKEN), "must all differ"),
        (dict(token=TOKEN, metrics_token=TOKEN), "must all differ"),
    ]
    for over, words in cases:
        with pytest.raises(credentials.CredentialError, match=words) as err:
            credentials.load_credentials(_settings(**over))
        assert TOKEN not in str(err.value)


def test_settings_never_print_secrets():
    s = _settings(token=TOKEN, display_token=DISPLAY)
    for text in (repr(s), str(s), s.model_dump_json()):
        assert TOKEN not in text and DISPLAY not in text


def test_main_rejects_a_bad_secret_cleanly(tmp_path):
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("SERVER_MONITOR_")}
    env["SERVER_MONITOR_TOKEN"] = "short-secret"
    proc = subprocess.run([sys.executable, "main.py", "--port", str(free_port())],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "shorter than 16 characters" in proc.stderr
    assert "Traceback" not in proc.stderr and "short-secret" not in proc.stderr


# --- logging in from a browser ----------------------------------------------------------------
def test_login_sets_a_strict_cookie_that_opens_the_full_scope(default):
    default.cookies.clear()
    r = default.post("/login", data={"token": TOKEN, "next": "/processes?sort=cpu"},
                     follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/processes?sort=cpu"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert TOKEN not in cookie  # derived from the token, never the token
    assert default.get("/api/processes").status_code == 200
    r = default.post("/logout", follow_redirects=False)
    assert r.status_code == 303
    assert default.get("/api/processes").status_code == 401


def test_a_display_login_gets_the_display_scope(default):
    default.cookies.clear()
    assert default.post("/login", data={"token": DISPLAY}, follow_redirects=False).status_code == 303
    assert default.get("/api/cpu").status_code == 200
    assert default.get("/api/processes").status_code == 403


def test_replacing_the_token_revokes_every_cookie(make_client):
    first = make_client(token=TOKEN, tick=60)
    first.post("/login", data={"token": TOKEN}, follow_redirects=False)
    cookie = first.cookies.get(auth.COOKIE)
    assert cookie and first.get("/api/processes").status_code == 200
    other = "another-token-0123456789abcdef"
    second = make_client(token=other, tick=60)
    second.cookies.set(auth.COOKIE, cookie)
    assert second.get("/api/processes").status_code == 401
    forged = make_client(token=TOKEN, tick=60)
    forged.cookies.set(auth.COOKIE, "0" * 64)
    assert forged.get("/api/processes").status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example",
                                    "javascript:alert(1)", "/ok\r\nX-Injected: 1"])
def test_login_never_redirects_off_the_console(default, target):
    r = default.post("/login", data={"token": TOKEN, "next": target}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"


def test_wrong_tokens_are_rate_limited_per_address(make_client):
    c = make_client(token=TOKEN, tick=60, login_attempts=3)
    for _ in range(3):
        assert c.post("/login", data={"token": WRONG}).status_code == 401
    r = c.post("/login", data={"token": TOKEN})
    assert r.status_code == 429 and "try again" in r.text  # even the right one, for the minute
    r = c.get("/api/processes", headers=bearer(WRONG))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_attempts_window_and_memory_are_bounded():
    a = auth.Attempts(2)
    a.failed("x", now=0.0)
    a.failed("x", now=1.0)
    assert a.blocked("x", now=2.0) == pytest.approx(58.0)
    assert a.blocked("x", now=61.0) == 0.0  # the first failure left the window
    for i in range(auth.Attempts.ADDRESSES + 10):
        a.failed(f"10.0.{i // 256}.{i % 256}", now=100.0)
    assert len(a._seen) == auth.Attempts.ADDRESSES


def test_login_body_is_bounded(default):
    r = default.post("/login", content=b"token=" + b"x" * 100_000,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


# --- a real server -----------------------------------------------------------------------------
def test_live_server_stream_and_log_lines(spawn_server, tmp_path):
    """On a real server: /stream for the display token and anonymously, 401 with a wrong one; the
    log never holds a secret, masks secret-looking query parameters, and has one line per event."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    server = spawn_server(env={"SERVER_MONITOR_TOKEN_FILE": str(token_file),
                               "SERVER_MONITOR_DISPLAY_TOKEN": DISPLAY})
    url = server.url
    with httpx.Client(timeout=10) as c:
        assert c.get(url + "/stream", headers=bearer(WRONG)).status_code == 401
        for headers in (basic(DISPLAY), {}):
            with c.stream("GET", url + "/stream", headers=headers) as r:
                assert r.status_code == 200
                assert r.headers["content-type"].startswith("text/event-stream")
                lines = r.iter_lines()
                assert any(next(lines).startswith("event: ") for _ in range(50))  # a card arrives
        assert c.get(url + "/api/cpu", headers=bearer(TOKEN)).status_code == 200
        assert c.get(url + "/api/cpu", headers=basic(TOKEN)).status_code == 200
        assert c.get(url + "/api/snapshot", headers=bearer(DISPLAY)).status_code == 403
        assert c.get(url + f"/api/snapshot?token={TOKEN}&x=1").status_code == 401
        assert c.get(url + "/api/snapshot?n=1%0Aforged-line").status_code == 401
    server.stop()
    log = server.log_path.read_text()
    assert TOKEN not in log and DISPLAY not in log
    assert "token=***&x=1" in log
    assert "access control: full token from SERVER_MONITOR_TOKEN_FILE=" in log
    assert '"GET /stream HTTP/1.1" 401' in log and '"GET /api/snapshot HTTP/1.1" 403' in log
    for line in log.splitlines():
        if line.strip():
            assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ \S+: ", line), line


def test_display_stream_carries_no_command_line(spawn_server):
    """What the display scope can read (the dashboard's stream, overview JSON) names processes but
    never shows their command lines, while the full token's process API does."""
    marker = "display-scope-marker-7f3a9c"
    busy = subprocess.Popen([sys.executable, "-c", "import time\nt=time.time()+60\nwhile time.time()<t: pass",
                             marker])
    try:
        server = spawn_server(env={"SERVER_MONITOR_TOKEN": TOKEN, "SERVER_MONITOR_DISPLAY_TOKEN": DISPLAY})
        with httpx.Client(timeout=10) as c:
            deadline = time.monotonic() + 15
            while True:  # until the process table has seen the busy process
                procs = c.get(server.url + "/api/processes", headers=bearer(TOKEN), params={"q": marker})
                if procs.status_code == 200 and marker in procs.text:
                    break
                assert time.monotonic() < deadline, "busy process not in /api/processes"
                time.sleep(0.5)
            for headers in (basic(DISPLAY), {}):  # the display token, and anonymous loopback
                seen = []
                with c.stream("GET", server.url + "/stream", headers=headers) as r:
                    lines = r.iter_lines()
                    for _ in range(400):
                        line = next(lines)
                        seen.append(line)
                        if line == "event: tick" and len(seen) > 20:
                            break
                text = "\n".join(seen)
                assert "event: processes" in text or "event: cpu" in text
                assert marker not in text and 'href=\\"/processes/' not in text
                assert 'href="/processes/' not in text
                for path in ("/dashboard", "/wall", "/api/cpu", "/api/system", "/api/health"):
                    r = c.get(server.url + path, headers=headers)
                    assert r.status_code in (200, 503) and marker not in r.text, path
                    assert 'href="/processes/' not in r.text, path
    finally:
        busy.kill()
        busy.wait(5)
