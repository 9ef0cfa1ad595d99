"""Access control (views/auth.py): every route without, with a wrong and with a right credential;
the display token's scope; refusing to bind a non-loopback address without a credential; secrets
never in a log line.

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
from views import auth

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
    return make_client(token=TOKEN, display_token=DISPLAY, tick=60)


def protected(app) -> list[str]:
    # Streams never end (a TestClient would wait forever): /stream is checked on a live server.
    return [p for p in get_paths(app) if p != "/healthz" and not p.startswith("/static/")
            and not p.endswith("/stream")]


def test_routes_need_a_credential(secured):
    paths = protected(secured.app)
    assert {"/dashboard", "/api/cpu", "/api/snapshot", "/openapi.json"} <= set(paths)
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


def test_401_says_what_to_send(secured):
    r = secured.get("/api/cpu")
    assert r.headers["content-type"] == "application/json"
    assert "Bearer" in r.json()["detail"]
    page = secured.get("/dashboard", headers={"Accept": "text/html"})
    assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")
    assert "credential is required" in page.text


def test_right_credential_gets_the_data(secured):
    for headers in (bearer(TOKEN), basic(TOKEN, user="anyone")):
        r = secured.get("/api/cpu", headers=headers)
        assert r.status_code == 200 and r.json()["cpu"]["count"] >= 1


def test_open_paths_need_nothing(secured):
    assert secured.get("/healthz").json() == {"status": "ok"}
    assert secured.get("/static/app.css").status_code == 200


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


def test_display_scope_is_path_exact_not_loose_prefix():
    assert auth.display_may("/api/cpu") and auth.display_may("/static/htmx.min.js")
    assert auth.display_may("/api/history/cpu.percent")
    for path in ("/api/cpux", "/api/cpu/../processes", "/dashboardx", "/stream2", "/wall/../logs",
                 "/api/snapshot", "/", "/processes"):
        assert auth.display_may(path) is (path == "/")


def test_without_credentials_loopback_is_open(make_client):
    c = make_client(tick=60)
    assert c.get("/api/cpu").status_code == 200


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_without_credentials_a_proxied_request_is_refused(make_client, header):
    """nginx on this host connects from 127.0.0.1; its forwarding headers give it away."""
    c = make_client(tick=60)
    r = c.get("/api/cpu", headers={header: "203.0.113.9"})
    assert r.status_code == 403 and "proxy" in r.json()["detail"]
    assert c.get("/healthz", headers={header: "203.0.113.9"}).status_code == 200  # stays open
    assert c.get("/api/cpu").status_code == 200  # a direct loopback client still needs nothing


def test_without_credentials_a_non_loopback_socket_is_refused():
    """`uvicorn main:app --host 0.0.0.0` skips main.py's check: each request checks the socket
    it arrived on (ASGI scope["server"]) and answers only on loopback."""
    from main import create_app
    from monitor.settings import Settings
    app = create_app(Settings())

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
        assert r.status_code == (403 if refused else 503), (base, r.status_code)
        if refused:
            assert "loopback" in r.json()["detail"]
        assert get(base, "/healthz").status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.53", "::ffff:127.0.0.1"])
def test_loopback_needs_no_credential(host):
    assert auth.refuse_to_listen(host, auth.Credentials()) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.0.0.5", "monitor.example.com"])
def test_other_addresses_need_a_credential(host, tmp_path):
    message = auth.refuse_to_listen(host, auth.Credentials())
    assert message and "SERVER_MONITOR_TOKEN_FILE" in message
    (tmp_path / "t").write_text(TOKEN + "\n")
    creds = auth.load_credentials(_settings(token_file=tmp_path / "t"))
    assert auth.refuse_to_listen(host, creds) is None


def test_main_refuses_to_bind_non_loopback_without_credential():
    port = free_port()
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("SERVER_MONITOR_")}
    proc = subprocess.run([sys.executable, "main.py", "--host", "0.0.0.0", "--port", str(port)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "refusing to listen on 0.0.0.0" in proc.stderr
    assert "SERVER_MONITOR_TOKEN_FILE" in proc.stderr  # says how
    assert "Uvicorn running" not in proc.stderr


def _settings(**over):
    from monitor.settings import Settings
    return Settings(**over)


def test_secret_from_file_and_errors_that_say_how(tmp_path):
    f = tmp_path / "token"
    f.write_text(f"  {TOKEN}\n")
    creds = auth.load_credentials(_settings(token_file=f))
    assert creds.role_of(TOKEN.encode()) == "full" and creds.role_of(WRONG.encode()) is None
    assert TOKEN not in repr(creds) and TOKEN not in creds.describe()
    assert str(f) in creds.describe()

    cases = [
        (dict(token=TOKEN, token_file=f), "not both"),
        (dict(token_file=tmp_path / "missing"), "cannot read"),
        (dict(token="short"), "shorter than 16"),
        (dict(token="has a space in the middle"), "printable ASCII"),
        (dict(token=TOKEN, display_token=TOKEN), "must differ"),
    ]
    for over, words in cases:
        with pytest.raises(auth.CredentialError, match=words) as err:
            auth.load_credentials(_settings(**over))
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


def test_live_server_stream_and_log_lines(spawn_server, tmp_path):
    """On a real server: /stream for the display token, 401 without; the log never holds a
    secret, masks secret-looking query parameters, and has one line per event."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    server = spawn_server(env={"SERVER_MONITOR_TOKEN_FILE": str(token_file),
                               "SERVER_MONITOR_DISPLAY_TOKEN": DISPLAY})
    url = server.url
    with httpx.Client(timeout=10) as c:
        assert c.get(url + "/stream").status_code == 401
        with c.stream("GET", url + "/stream", headers=basic(DISPLAY)) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            lines = r.iter_lines()
            assert any(next(lines).startswith("event: ") for _ in range(50))  # a card arrives
        assert c.get(url + "/api/cpu", headers=bearer(TOKEN)).status_code == 200
        assert c.get(url + "/api/cpu", headers=basic(TOKEN)).status_code == 200
        assert c.get(url + "/api/snapshot", headers=bearer(DISPLAY)).status_code == 403
        assert c.get(url + f"/api/cpu?token={TOKEN}&x=1").status_code == 401
        assert c.get(url + "/api/cpu?n=1%0Aforged-line").status_code == 401
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
    """What the display token can read (the dashboard's stream, overview JSON) names processes but
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
            seen = []
            with c.stream("GET", server.url + "/stream", headers=basic(DISPLAY)) as r:
                lines = r.iter_lines()
                for _ in range(400):
                    line = next(lines)
                    seen.append(line)
                    if line == "event: tick" and len(seen) > 20:
                        break
            text = "\n".join(seen)
            assert "event: processes" in text or "event: cpu" in text
            assert marker not in text
            for path in ("/dashboard", "/wall", "/api/cpu", "/api/system"):
                r = c.get(server.url + path, headers=basic(DISPLAY))
                if r.status_code != 404:
                    assert r.status_code == 200 and marker not in r.text, path
    finally:
        busy.kill()
        busy.wait(5)
