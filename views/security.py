"""Browser safety on every response: a strict CSP and friends, and no cross-site writes.

No inline script and no inline style anywhere in our markup, so the policy can forbid both:
a process named ``<img src=x onerror=...>`` that somehow escaped autoescape still could not run.

    $ curl -sI 127.0.0.1:8000/dashboard | grep -i -e policy -e options
    content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; ...; frame-ancestors 'none'
    x-content-type-options: nosniff
    referrer-policy: no-referrer
    x-frame-options: DENY

``frame-ancestors`` is the one configurable part (SERVER_MONITOR_FRAME_ANCESTORS) for a console
embedded on purpose, e.g. in a Grafana text panel: ``"'self' https://grafana.example.com"``.
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_BASE = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
]


def csp(frame_ancestors: str = "'none'") -> str:
    return "; ".join([*CSP_BASE, f"frame-ancestors {frame_ancestors}"])


def headers_for(frame_ancestors: str = "'none'") -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", csp(frame_ancestors).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    # X-Frame-Options for browsers without CSP level 2; it can only say DENY or SAMEORIGIN, so
    # with any other frame-ancestors it is left out (it would contradict the CSP).
    xfo = {"'none'": b"DENY", "'self'": b"SAMEORIGIN"}.get(frame_ancestors.strip())
    if xfo:
        headers.append((b"x-frame-options", xfo))
    return headers


class SecurityHeaders:
    """Pure ASGI middleware (not BaseHTTPMiddleware, which would buffer SSE streams)."""

    def __init__(self, app: ASGIApp, frame_ancestors: str = "'none'") -> None:
        self.app = app
        self.headers = headers_for(frame_ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                existing = {k.lower() for k, _ in message["headers"]}
                message["headers"] = list(message["headers"]) + [
                    (k, v) for k, v in self.headers if k not in existing
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class SameOriginWrites:
    """CSRF guard for every state-changing request, present or future: a browser that sends a
    POST/PUT/PATCH/DELETE from another site is refused before routing.

    Browsers attach HTTP Basic credentials to cross-site requests too, so the credential alone
    proves nothing. Modern browsers say where a request comes from (``Sec-Fetch-Site``); older
    ones send ``Origin`` on every cross-site POST. Scripts (curl, a scraper with a Bearer token)
    send neither and are not browsers to be tricked, so they pass.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            reason = cross_site(dict(scope["headers"]))
            if reason:
                body = json.dumps({"detail": f"cross-site request refused: {reason}"}).encode()
                await send({"type": "http.response.start", "status": 403, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def cross_site(headers: dict[bytes, bytes]) -> str | None:
    """Why a write with these request headers is cross-site, or None when it is not."""
    site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
    if site:  # the browser's own word wins: with Referrer-Policy no-referrer a same-origin
        # form POST carries "Origin: null", which alone would look cross-site
        return None if site in ("same-origin", "none") else f"Sec-Fetch-Site is {site}"
    origin = headers.get(b"origin", b"").decode("latin-1")
    if origin:
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if origin == "null" or urlsplit(origin).netloc.lower() != host:
            return f"Origin {origin!r} is not this console"
    return None


class AllowedHosts:
    """DNS rebinding guard: answer only requests whose Host names this console.

    A page on evil.example can make its name resolve to 127.0.0.1; the browser then sends the
    console's answers to that page as same-origin. The Host header still says evil.example, so
    only loopback names and addresses, the configured ``allowed_hosts`` and the address the
    console listens on are served; anything else is a 400 that says which setting to change.
    A request without a Host (HTTP/1.0 from a script) cannot come from a rebinding browser.
    """

    def __init__(self, app: ASGIApp, allowed: list[str], listen_host: str = "") -> None:
        from .auth import is_loopback  # here: auth imports errors, which imports templating
        self.app = app
        self.is_loopback = is_loopback
        self.any = "*" in allowed
        self.allowed = {h.lower().strip("[]") for h in allowed}
        if listen_host and listen_host not in ("0.0.0.0", "::", ""):
            self.allowed.add(listen_host.lower().strip("[]"))

    def permits(self, host_header: str) -> bool:
        host = host_header.strip().lower()
        if host.startswith("["):  # [::1]:8000
            host = host[1:].partition("]")[0]
        elif host.count(":") == 1:  # name:port; a bare IPv6 address has several colons
            host = host.partition(":")[0]
        return self.any or host in self.allowed or self.is_loopback(host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host")
            if host is not None and not self.permits(host.decode("latin-1")):
                shown = host.decode("latin-1")[:100]
                body = json.dumps({"detail": (
                    f"this console does not answer for Host {shown!r}; add the name to "
                    f"SERVER_MONITOR_ALLOWED_HOSTS if it is really this console's")}).encode()
                await send({"type": "http.response.start", "status": 400, "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
