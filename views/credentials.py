"""Secrets: where each comes from, the token generated on first start, and what a presented
secret or login cookie is worth. No HTTP here; views/auth.py decides what each role may see.

    $ python main.py
    ... access control: full token from ~/.local/state/server-monitor/token (generated), ...
    $ curl -H "Authorization: Bearer $(cat ~/.local/state/server-monitor/token)" 127.0.0.1:8000/api/processes
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from monitor.settings import Settings

log = logging.getLogger("server_monitor.auth")

MIN_LENGTH = 16
MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
FULL, DISPLAY, METRICS = "full", "display", "metrics"


class CredentialError(ValueError):
    """A secret is misconfigured; the message says which setting and how to fix it."""


@dataclass(frozen=True, repr=False)  # repr=False: nothing about a secret in a traceback
class Credentials:
    full: bytes | None = None  # SHA-256 of the full-access secret
    display: bytes | None = None  # SHA-256 of the display secret
    metrics: bytes | None = None  # SHA-256 of the scrape-only secret
    sources: tuple[str, ...] = ()  # where each came from, for the startup log line
    # SHA-256 of each login cookie's value -> its role. A cookie is HMAC(secret, role), so it
    # is worth nothing once the secret it was made from is replaced.
    cookies: dict[bytes, str] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return self.full is not None or self.display is not None

    def role_of(self, secret: bytes | None) -> str | None:
        if secret is None:
            return None
        digest = hashlib.sha256(secret).digest()
        # Every comparison always runs, so the time taken does not say which one matched.
        matches = [(role, want is not None and hmac.compare_digest(digest, want))
                   for role, want in ((FULL, self.full), (DISPLAY, self.display),
                                      (METRICS, self.metrics))]
        return next((role for role, hit in matches if hit), None)

    def role_of_cookie(self, value: bytes | None) -> str | None:
        if not value:
            return None
        digest = hashlib.sha256(value).digest()
        found = None
        for want, role in self.cookies.items():
            if hmac.compare_digest(digest, want):
                found = role
        return found

    def describe(self) -> str:
        return "access control: " + (", ".join(self.sources) if self.sources else "none")


def cookie_value(secret: bytes, role: str) -> str:
    """The login cookie for a secret: derived, so the cookie never is the token itself."""
    return hmac.new(secret, f"server-monitor login {role}".encode(), hashlib.sha256).hexdigest()


def _check_secret(text: str, where: str) -> bytes:
    if len(text) < MIN_LENGTH:
        raise CredentialError(f"{where}: the secret is shorter than {MIN_LENGTH} characters; "
                              f"make one with: {MAKE_ONE}")
    if not all(0x21 <= ord(ch) <= 0x7E for ch in text):
        raise CredentialError(f"{where}: the secret must be printable ASCII without spaces "
                              f"(it travels in an HTTP header); make one with: {MAKE_ONE}")
    return text.encode("ascii")


def _secret(value: SecretStr | None, file: Path | None, env: str) -> tuple[bytes | None, str]:
    if value is not None and file is not None:
        raise CredentialError(f"set SERVER_MONITOR_{env} or SERVER_MONITOR_{env}_FILE, not both")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialError(f"SERVER_MONITOR_{env}_FILE={file}: cannot read it "
                                  f"({getattr(exc, 'strerror', None) or exc})") from None
        where = f"SERVER_MONITOR_{env}_FILE={file}"
    elif value is not None:
        text = value.get_secret_value().strip()
        where = f"SERVER_MONITOR_{env}"
    else:
        return None, ""
    return _check_secret(text, where), where


def generated_token(data_dir: Path) -> tuple[bytes, str]:
    """The token in data_dir/token, made on first start (mode 0600, created exclusively so two
    starting consoles cannot both write one). A file others may read is refused: anyone who can
    read it has full access."""
    path = data_dir / "token"
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32) + "\n")
            log.info("generated a full-access token in %s (mode 0600)", path)
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise CredentialError(f"{path}: not a regular file")
        if st.st_mode & 0o077:
            raise CredentialError(f"{path} may be read by other users; chmod 600 {path}")
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CredentialError(f"cannot keep the generated token in {path} ({exc.strerror or exc}); "
                              f"set SERVER_MONITOR_DATA_DIR or SERVER_MONITOR_TOKEN_FILE") from None
    return _check_secret(text, str(path)), f"{path} (generated)"


def load_credentials(settings: Settings) -> Credentials:
    full, full_from = _secret(settings.token, settings.token_file, "TOKEN")
    if full is None:
        full, full_from = generated_token(settings.data_dir)
    display, display_from = _secret(settings.display_token, settings.display_token_file,
                                    "DISPLAY_TOKEN")
    metrics, metrics_from = _secret(settings.metrics_token, settings.metrics_token_file,
                                    "METRICS_TOKEN")
    given = [s for s in (full, display, metrics) if s is not None]
    if len(set(given)) != len(given):
        raise CredentialError("the full, display and metrics tokens must all differ")
    sources = tuple(s for s in (f"full token from {full_from}",
                                display_from and f"display token from {display_from}",
                                metrics_from and f"metrics token from {metrics_from}",
                                f"anonymous loopback requests get: {settings.anonymous}") if s)
    cookies = {hashlib.sha256(cookie_value(secret, role).encode()).digest(): role
               for secret, role in ((full, FULL), (display, DISPLAY)) if secret is not None}

    def digest(secret: bytes | None) -> bytes | None:
        return hashlib.sha256(secret).digest() if secret is not None else None

    return Credentials(full=digest(full), display=digest(display), metrics=digest(metrics),
                       sources=sources, cookies=cookies)


class Attempts:
    """Failed credentials per client address in the last minute, bounded in addresses too:
    wrong Authorization headers (views/auth.py) and wrong tokens typed into /login."""

    WINDOW = 60.0
    ADDRESSES = 4096

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def blocked(self, addr: str, now: float | None = None) -> float:
        """Seconds until ``addr`` may try again (0: it may)."""
        now = time.monotonic() if now is None else now
        times = self._seen.get(addr)
        while times and times[0] < now - self.WINDOW:
            times.popleft()
        if not times or len(times) < self.limit:
            return 0.0
        return times[0] + self.WINDOW - now

    def failed(self, addr: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        times = self._seen.pop(addr, None) or deque(maxlen=self.limit)
        times.append(now)
        self._seen[addr] = times  # most recent last; the oldest addresses are forgotten first
        while len(self._seen) > self.ADDRESSES:
            self._seen.popitem(last=False)
