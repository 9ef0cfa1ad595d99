"""Shared fixtures: an in-process TestClient, a real server on loopback (a subprocess, or an app
served in a thread), and headless Chromium.

Browser tests drive Debian's Chromium through Playwright for Python. Under CI=true a missing
Chromium is a failure, never a skip: .ci/run installs it. Every test that uses the ``browser``
fixture (``watched_page`` does) is marked ``browser``, so ``pytest -m "not browser"`` is the
fast lane.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

import main  # noqa: F401 - before FastAPI: its pydantic defaults (deferred builds) hold in every test
from fastapi.testclient import TestClient  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Tests never write into the operator's state directory: every app built in-process and every
# server spawned by a test keeps its events (monitor/events.py) in a throwaway directory.
import tempfile  # noqa: E402

os.environ["SERVER_MONITOR_DATA_DIR"] = tempfile.mkdtemp(prefix="server-monitor-test-")


# Every app and server a test builds has this full-access token unless the test sets its own;
# the shared clients present it, so tests see what an operator who logged in sees. Tests of the
# anonymous and display scopes build their own clients without it (credential=False).
TEST_TOKEN = "test-full-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TEST_TOKEN}"}


def make_settings(**over):
    from monitor.settings import Settings
    if "token" not in over and "token_file" not in over:
        over["token"] = TEST_TOKEN
    return Settings(**over)


@pytest.fixture
def make_client():
    """Build an app (optionally with custom settings/collectors) and run its lifespan. The client
    talks to http://127.0.0.1 (the Host check refuses TestClient's "testserver") and presents
    TEST_TOKEN unless ``credential=False`` or the test configured another token."""
    from main import create_app
    clients: list[TestClient] = []

    def build(collectors=None, credential: bool = True, **settings) -> TestClient:
        own_token = "token" in settings or "token_file" in settings
        app = create_app(make_settings(**settings), collectors=collectors)
        headers = AUTH if credential and not own_token else None
        c = TestClient(app, base_url="http://127.0.0.1", headers=headers)
        c.__enter__()
        clients.append(c)
        return c

    yield build
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    port: int
    env: dict
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict:
        """The credential to present: this server's full token (TEST_TOKEN unless set)."""
        token = self.env.get("SERVER_MONITOR_TOKEN")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **kw) -> httpx.Response:
        """GET with this server's credential (``headers=`` adds to it)."""
        return httpx.get(self.url + path, headers={**self.headers, **kw.pop("headers", {})},
                         timeout=kw.pop("timeout", 10), **kw)

    def start(self, timeout: float = 20.0) -> None:
        self.log_path = ARTIFACTS / f"server-{self.port}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "main.py", "--host", "127.0.0.1", "--port", str(self.port),
             *self.extra_args],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer /healthz in time")

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not ended in 10 s: every process a test started ends."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _spawn(env_over: dict | None = None, args: list[str] | None = None) -> LiveServer:
    port = free_port()
    env = {**os.environ, "SERVER_MONITOR_TICK": "1", **(env_over or {})}
    if "SERVER_MONITOR_TOKEN_FILE" not in env:
        env.setdefault("SERVER_MONITOR_TOKEN", TEST_TOKEN)
    server = LiveServer(url=f"http://127.0.0.1:{port}", port=port, env=env,
                        extra_args=args or [])
    server.start()
    return server


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """One real console on loopback for the session's browser and HTTP tests."""
    server = _spawn()
    yield server
    server.stop()


@pytest.fixture
def spawn_server():
    """Start extra servers with their own settings; all are stopped after the test."""
    servers: list[LiveServer] = []

    def spawn(env: dict | None = None, args: list[str] | None = None) -> LiveServer:
        s = _spawn(env, args)
        servers.append(s)
        return s

    yield spawn
    for s in servers:
        s.stop()


@pytest.fixture
def serve_app():
    """Serve an app built in this process (a fake collector cannot cross into a subprocess) by
    uvicorn in a thread; returns its URL once /healthz answers. Stopped after the test."""
    import uvicorn
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def serve(app, timeout: float = 15.0) -> str:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning", timeout_graceful_shutdown=1))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        running.append((server, thread))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"the app served on port {port} did not answer /healthz in time")

    yield serve
    for server, thread in running:
        server.should_exit = True
        thread.join(10)


BROWSER_FIXTURES = {"browser", "watched_page"}


def pytest_collection_modifyitems(config, items):
    """``browser`` on every test that drives Chromium, whether it asks for ``browser`` or a
    fixture built on it (``fixturenames`` is the closure)."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


# Module scope, not session: while Playwright's sync API runs, its event loop is the thread's
# running loop, and asyncio.run() in a later non-browser test module would refuse to start.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if IN_CI:
            pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run must install it")
        pytest.skip("Chromium not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


CSP_WATCH = """
document.addEventListener("securitypolicyviolation", function (e) {
  (window.__cspViolations = window.__cspViolations || []).push(
    e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


@dataclass
class WatchedPage:
    """A page plus every console error, page error and CSP violation it produced."""
    page: object
    errors: list[str]

    def csp_violations(self) -> list[str]:
        try:
            return self.page.evaluate("window.__cspViolations || []")
        except Exception:  # noqa: BLE001 - page closed or navigating: nothing to read
            return []

    def assert_clean(self, answered: tuple[int, ...] = ()) -> None:
        """No error at all, but Chromium's own "Failed to load resource" line for a response
        the test caused on purpose with a status in ``answered`` (a refused filter's 422)."""
        allowed = tuple(f"the server responded with a status of {code} " for code in answered)
        problems = [e for e in self.errors if not (allowed and "Failed to load resource" in e
                                                   and any(a in e for a in allowed))]
        problems += [f"CSP: {v}" for v in self.csp_violations()]
        assert problems == [], f"browser reported errors: {problems}"


@pytest.fixture
def watched_page(browser) -> Iterator[WatchedPage]:
    # Logged in: the page sees what an operator with the full token sees.
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, extra_http_headers=AUTH)
    ctx.add_init_script(CSP_WATCH)
    page = ctx.new_page()
    errors: list[str] = []
    # Chromium reports CSP violations and failed loads (a missing favicon too) as console errors.
    page.on("console", lambda m: m.type == "error" and errors.append(f"console.error: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    yield WatchedPage(page, errors)
    ctx.close()
