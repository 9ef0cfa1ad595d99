"""Access control: who may see what. Pure ASGI middleware (BaseHTTPMiddleware would buffer SSE).

    no secret configured   open, but on loopback only: main.py refuses to bind anywhere else,
                           and a request that reaches a non-loopback socket anyway (e.g. through
                           `uvicorn main:app --host 0.0.0.0`) is refused with 403
    the full token         everything
    the display token      the overview only: /, /dashboard, /wall, /stream, overview JSON
                           (DISPLAY_ALLOWED below); no process details, command lines or logs
    anyone                 /healthz and /static/ (vendored htmx, CSS: nothing about the host)

A secret travels as ``Authorization: Bearer <secret>`` (API, scrapes, curl) or as the password
of HTTP Basic with any user name (browsers and wall displays: the browser keeps it, nothing
expires, there is no session to log out of). Never in a query string: URLs end up in access
logs, browser history and Referer headers. Secrets are kept as SHA-256 digests and compared in
constant time (``hmac.compare_digest`` on equal-length digests, so not even the length leaks).

    $ curl -s -o /dev/null -w '%{http_code}\\n' http://mon:8000/api/cpu
    401
    $ curl -s -H "Authorization: Bearer $(cat /etc/server-monitor/token)" http://mon:8000/api/cpu
    {"seq":42,"taken_at":1795693001.2,"cpu":{...}}
    $ curl -s -u wall:"$(cat /etc/server-monitor/display-token)" http://mon:8000/processes
    {"detail":"the display credential opens only the overview (dashboard, wall, ...)"}   (403)

/api/snapshot is NOT open to the display token: it carries every area at once, including the
top processes with their command lines (which may hold passwords). A wall needs only /stream and
the per-area JSON, which stay open to it. Deny by default: a route added later is full-token only
until it is added to DISPLAY_ALLOWED here.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.settings import Settings

from .errors import error_response

log = logging.getLogger("server_monitor.auth")

MIN_LENGTH = 16
MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"

# Open to anyone, even when secrets are configured.
OPEN_EXACT = {"/healthz"}
OPEN_PREFIXES = ("/static/",)

# What the display token may read: exact paths, and prefixes that end in "/" (whole subtrees).
DISPLAY_EXACT = {
    "/", "/dashboard", "/wall", "/stream", "/healthz", "/api/health", "/api/history",
    "/api/system", "/api/cpu", "/api/memory", "/api/disks", "/api/network", "/api/sensors",
}
DISPLAY_PREFIXES = ("/static/", "/api/history/")

# Both challenges on every 401: browsers answer Basic with a prompt, scripts read Bearer.
CHALLENGES = ('Basic realm="server-monitor", charset="UTF-8"', 'Bearer realm="server-monitor"')

FULL, DISPLAY = "full", "display"


class CredentialError(ValueError):
    """A secret is misconfigured; the message says which setting and how to fix it."""


@dataclass(frozen=True, repr=False)  # repr=False: nothing about a secret in a traceback
class Credentials:
    full: bytes | None = None  # SHA-256 of the full-access secret
    display: bytes | None = None  # SHA-256 of the display secret
    sources: tuple[str, ...] = ()  # where each came from, for the startup log line

    @property
    def configured(self) -> bool:
        return self.full is not None or self.display is not None

    def role_of(self, secret: bytes | None) -> str | None:
        if secret is None:
            return None
        digest = hashlib.sha256(secret).digest()
        # Both comparisons always run, so the time taken does not say which one matched.
        is_full = self.full is not None and hmac.compare_digest(digest, self.full)
        is_display = self.display is not None and hmac.compare_digest(digest, self.display)
        return FULL if is_full else DISPLAY if is_display else None

    def describe(self) -> str:
        return "access control: " + (", ".join(self.sources) if self.configured
                                     else "none (loopback only)")


def _secret(value: SecretStr | None, file: Path | None, env: str) -> tuple[bytes | None, str]:
    if value is not None and file is not None:
        raise CredentialError(f"set SERVER_MONITOR_{env} or SERVER_MONITOR_{env}_FILE, not both")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CredentialError(f"SERVER_MONITOR_{env}_FILE={file}: cannot read it "
                                  f"({exc.strerror or exc})") from None
        where = f"SERVER_MONITOR_{env}_FILE={file}"
    elif value is not None:
        text = value.get_secret_value().strip()
        where = f"SERVER_MONITOR_{env}"
    else:
        return None, ""
    if len(text) < MIN_LENGTH:
        raise CredentialError(f"{where}: the secret is shorter than {MIN_LENGTH} characters; "
                              f"make one with: {MAKE_ONE}")
    if not all(0x21 <= ord(ch) <= 0x7E for ch in text):
        raise CredentialError(f"{where}: the secret must be printable ASCII without spaces "
                              f"(it travels in an HTTP header); make one with: {MAKE_ONE}")
    return text.encode("ascii"), where


def load_credentials(settings: Settings) -> Credentials:
    full, full_from = _secret(settings.token, settings.token_file, "TOKEN")
    display, display_from = _secret(settings.display_token, settings.display_token_file,
                                    "DISPLAY_TOKEN")
    if full is not None and full == display:
        raise CredentialError("the display token must differ from the full-access token")
    sources = tuple(s for s in (full_from and f"full token from {full_from}",
                                display_from and f"display token from {display_from}") if s)
    return Credentials(
        full=hashlib.sha256(full).digest() if full is not None else None,
        display=hashlib.sha256(display).digest() if display is not None else None,
        sources=sources,
    )


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name other than localhost, "", "0.0.0.0" is not an address: not loopback
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def refuse_to_listen(host: str, credentials: Credentials) -> str | None:
    """Why the console must not listen on ``host`` with these credentials, or None if it may."""
    if is_loopback(host) or credentials.configured:
        return None
    return (f"refusing to listen on {host or 'all addresses'} without a credential: anyone who "
            f"can reach this port would see every process, command line and log.\n"
            f"Listen on 127.0.0.1, or set a token (a reverse proxy in front needs one too):\n"
            f"  {MAKE_ONE} > /etc/server-monitor/token\n"
            f"  SERVER_MONITOR_TOKEN_FILE=/etc/server-monitor/token python main.py --host {host}\n"
            f"(SERVER_MONITOR_TOKEN=... works too; see README, 'Access control').")


# Set by reverse proxies (nginx's proxy_set_header lines in deploy/nginx.conf set the first).
PROXY_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip", b"x-forwarded-host")


def display_may(path: str) -> bool:
    return path in DISPLAY_EXACT or path.startswith(DISPLAY_PREFIXES)


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


class AccessControl:
    def __init__(self, app: ASGIApp, credentials: Credentials) -> None:
        self.app = app
        self.credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        role, status, message = self.decide(scope, path)
        if status is None:
            scope.setdefault("state", {})["role"] = role
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            response = error_response(Request(scope), status, message)
            if status == 401:
                for challenge in CHALLENGES:
                    response.headers.append("www-authenticate", challenge)
            await response(scope, receive, send)

    def decide(self, scope: Scope, path: str) -> tuple[str | None, int | None, str]:
        """(role, None, "") to let the request through, or (None, status, message) to refuse."""
        if path in OPEN_EXACT or path.startswith(OPEN_PREFIXES):
            return None, None, ""
        if not self.credentials.configured:
            server = scope.get("server") or ("", None)
            if _is_ip(server[0]) and not is_loopback(server[0]):
                return None, 403, ("no credential is configured, so this console answers on "
                                   "loopback only; set SERVER_MONITOR_TOKEN_FILE to open it")
            # A reverse proxy on this host also connects from loopback: its forwarding headers
            # say the request came from elsewhere, and that needs a credential too.
            headers = dict(scope["headers"])
            if any(h in headers for h in PROXY_HEADERS):
                return None, 403, ("this request came through a proxy and no credential is "
                                   "configured: set SERVER_MONITOR_TOKEN_FILE before exposing the "
                                   "console through a reverse proxy")
            return FULL, None, ""
        role = self.credentials.role_of(presented_secret(dict(scope["headers"])))
        if role is None:
            return None, 401, ("a credential is required: Authorization: Bearer <token>, or "
                               "HTTP Basic with the token as password")
        if role == DISPLAY and not display_may(path):
            return None, 403, ("the display credential opens only the overview (dashboard, wall, "
                               "stream, overview JSON); this needs the full-access token")
        return role, None, ""


def _is_ip(host: object) -> bool:
    try:
        ipaddress.ip_address(str(host).strip("[]"))
        return True
    except ValueError:
        return False
