"""Access control: who may see what. Pure ASGI middleware (BaseHTTPMiddleware would buffer SSE).

The console reads what its own privileges allow (root-only logs, every user's command lines and
open files); none of that may reach someone the operating system would refuse. So:

    the full token         everything. Generated on first start into data_dir/token (mode 0600)
                           unless SERVER_MONITOR_TOKEN(_FILE) names one; its *path* is logged,
                           never the token
    a login cookie         the same scope as the token typed into /login (HttpOnly,
                           SameSite=Strict, derived from the token: replacing the token revokes
                           every cookie)
    the display token      the overview only: /, /dashboard, /wall, /stream, overview JSON
                           (views/scopes.py), rendered without command lines, log text or
                           links to full-scope pages
    the metrics token      /metrics only (Prometheus)
    no credential          from loopback: what ``anonymous`` says (default "display"); a browser
                           asking for a full-scope page is sent to /login. From anywhere else, or
                           through a reverse proxy (forwarding headers): 401
    anyone                 /healthz, /login, /logout and /static/ (vendored htmx, CSS)

A secret travels as ``Authorization: Bearer <secret>`` (API, scrapes, curl), as the password of
HTTP Basic with any user name, or as the login cookie; never in a query string (URLs end up in
access logs, history and Referer headers). Secrets are kept as SHA-256 digests and compared in
constant time. Failed presentations are counted per client address (``login_attempts`` a
minute, then 429), so the token cannot be guessed at request speed.

    $ curl -s -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:8000/api/processes
    401
    $ curl -s -H "Authorization: Bearer $(cat ~/.local/state/server-monitor/token)" \\
          http://127.0.0.1:8000/api/processes
    {"seq":42,"taken_at":1795693001.2,"total":83,...}

Which paths each scope reaches is views/scopes.py's: deny by default, a route added later is
full-scope only until it is listed there.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import ipaddress
import logging
import math
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .credentials import DISPLAY, METRICS, Attempts, Credentials
from .scopes import OPEN_EXACT, OPEN_PREFIXES, acts, display_may, may  # noqa: F401 - tests read them here
from .errors import error_response

log = logging.getLogger("server_monitor.auth")

COOKIE = "server_monitor_session"

# Both challenges on every 401: browsers answer Basic with a prompt, scripts read Bearer.
CHALLENGES = ('Basic realm="server-monitor", charset="UTF-8"', 'Bearer realm="server-monitor"')


@functools.lru_cache(maxsize=1024)  # per request, for the few addresses a console hears from
def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name other than localhost, "", "0.0.0.0" is not an address: not loopback
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return addr.is_loopback


# Set by reverse proxies (nginx's proxy_set_header lines in deploy/nginx.conf set the first).
PROXY_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip", b"x-forwarded-host")


def presented_secret(headers: dict[bytes, bytes]) -> bytes | None:
    """The secret in an Authorization header (Bearer, or Basic's password), or None."""
    value = headers.get(b"authorization")
    if not value:
        return None
    scheme, _, rest = value.strip().partition(b" ")
    scheme, rest = scheme.lower(), rest.strip()
    if scheme == b"bearer" and rest:
        return rest
    if scheme == b"basic":
        try:
            decoded = base64.b64decode(rest, validate=True)
        except (binascii.Error, ValueError):
            return None
        _user, colon, password = decoded.partition(b":")
        return password if colon and password else None
    return None


def cookie_of(headers: dict[bytes, bytes]) -> bytes | None:
    for part in headers.get(b"cookie", b"").split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == COOKIE.encode():
            return value.strip()
    return None


@dataclass(frozen=True)
class Decision:
    role: str | None = None  # the scope the request runs with; None for open paths
    status: int | None = None  # None: let it through
    message: str = ""
    login: bool = False  # a browser page: send it to /login instead of a bare 401/403
    retry_after: int = 0  # with 429: seconds until this address may try again
    via: str = "none"  # how the credential came: bearer, basic, cookie, none (anonymous)
    proof: bytes | None = None  # SHA-256 of the presented secret or cookie (per-form tokens)


def wants_page(scope: Scope) -> bool:
    headers = dict(scope["headers"])
    return (scope.get("method") in ("GET", "HEAD") and b"text/html" in headers.get(b"accept", b"")
            and not scope["path"].startswith(("/api/", "/metrics", "/fragments", "/stream")))


class AccessControl:
    def __init__(self, app: ASGIApp, credentials: Credentials, anonymous: str = "display",
                 attempts: Attempts | None = None) -> None:
        self.app = app
        self.credentials = credentials
        self.anonymous = anonymous
        self.attempts = attempts or Attempts(10)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        d = self.decide(scope)
        if d.status is None:
            state = scope.setdefault("state", {})
            state["role"], state["via"], state["proof"] = d.role, d.via, d.proof
            await self.app(scope, receive, send)
            return
        if d.role is not None:  # refused, but known: the action audit says who (actions_audit.py)
            scope.setdefault("state", {}).update(refused_role=d.role, refused_via=d.via)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if d.login and wants_page(scope):
            target = scope["path"] + (("?" + scope["query_string"].decode("latin-1"))
                                      if scope.get("query_string") else "")
            response = RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
        else:
            response = error_response(Request(scope), d.status, d.message)
            if d.status == 401:
                for challenge in CHALLENGES:
                    response.headers.append("www-authenticate", challenge)
            if d.retry_after:
                response.headers["retry-after"] = str(d.retry_after)
        await response(scope, receive, send)

    def decide(self, scope: Scope) -> Decision:
        path = scope["path"]
        if path in OPEN_EXACT or path.startswith(OPEN_PREFIXES):
            return Decision()
        headers = dict(scope["headers"])
        peer = (scope.get("client") or ("?",))[0]
        secret = presented_secret(headers)
        via, proof = "none", None
        if secret is not None or b"authorization" in headers:
            wait = self.attempts.blocked(peer)
            if wait:
                return Decision(status=429, retry_after=math.ceil(wait), message=(
                    f"too many wrong credentials from this address; retry in {math.ceil(wait)} s"))
            role = self.credentials.role_of(secret)
            if role is None:
                self.attempts.failed(peer)
                return Decision(status=401, message=(
                    "a credential is required: Authorization: Bearer <token>, HTTP Basic with the "
                    "token as password, or log in at /login"))
            via = "bearer" if headers[b"authorization"].strip()[:7].lower() == b"bearer " else "basic"
            proof = hashlib.sha256(secret).digest()
        else:
            cookie = cookie_of(headers)
            role = self.credentials.role_of_cookie(cookie)
            if role is not None:
                via, proof = "cookie", hashlib.sha256(cookie).digest()
        if role is None:  # anonymous
            why = self._anonymous_refusal(scope, headers)
            if why or self.anonymous == "none":
                return Decision(status=401, login=True, message=why or (
                    "a credential is required: Authorization: Bearer <token>, HTTP Basic with "
                    "the token as password, or log in at /login"))
            role = self.anonymous
            if acts(path):
                return Decision(status=401, message=(
                    "acting on the host needs a presented full-access credential "
                    "(Authorization: Bearer <token>, or log in at /login); anonymous requests never act"))
            if not may(role, path):
                return Decision(status=401, login=True, message=(
                    "without a credential this console shows only its overview; this needs the "
                    "full-access token (Authorization: Bearer <token>, or log in at /login)"))
        if not may(role, path):
            what = {DISPLAY: "the display credential opens only the overview (dashboard, wall, "
                             "stream, overview JSON)",
                    METRICS: "the metrics credential opens only /metrics"}[role]
            return Decision(status=403, message=f"{what}; this needs the full-access token",
                            login=role == DISPLAY, role=role, via=via)
        return Decision(role=role, via=via, proof=proof)

    @staticmethod
    def _anonymous_refusal(scope: Scope, headers: dict[bytes, bytes]) -> str:
        """Why a request without a credential gets nothing at all ("" when it comes from here)."""
        server = scope.get("server") or ("", None)
        client = (scope.get("client") or ("",))[0]
        if (_is_ip(server[0]) and not is_loopback(server[0])) or (_is_ip(client) and not is_loopback(client)):
            return "a credential is required from another host: Authorization: Bearer <token>"
        # A reverse proxy on this host also connects from loopback: its forwarding headers
        # say the request came from elsewhere, and that needs a credential too.
        if any(h in headers for h in PROXY_HEADERS):
            return ("this request came through a proxy: a credential is required "
                    "(Authorization: Bearer <token>, or log in at /login)")
        return ""


def _is_ip(host: object) -> bool:
    return _is_ip_text(str(host))


@functools.lru_cache(maxsize=1024)
def _is_ip_text(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False
