"""What the operator configures for notifications (``Settings.notify``), and how a URL is shown.

In the TOML file named by SERVER_MONITOR_CONFIG:

    [notify]
    public_url = "https://monitor.example.com"      # the link at the end of each message
    remind_every = 3600                             # seconds; 0: no reminders

    [[notify.channels]]                             # any Apprise URL: mailto://, ntfys://, slack://
    url = "mailtos://alerts:app-password@smtp.example.com?to=ops@example.com"
    level = "warning"                               # the lowest state it receives

    [[notify.channels]]
    url = "ntfys://ntfy.example.com/server-pager"
    level = "critical"
    checks = ["disks_*", "memory"]                  # only these checks (glob) or areas

    [[notify.quiet_hours]]                          # warnings held, local time of the host
    start = "22:00"
    end = "07:00"

In the environment it is JSON: SERVER_MONITOR_NOTIFY='{"channels": [{"url": "json://..."}]}'.
Channel and heartbeat URLs are ``SecretStr``: no repr, log line, page or API answer prints them;
``redacted(url)`` (scheme and host only) is what is shown.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

Level = Literal["warning", "critical"]
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: SecretStr = Field(description="an Apprise URL (mailto://, json://, ntfy://, slack://, ...)")
    name: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9 _.:@/-]*$",
                      description="what pages and the API call it (default: its redacted URL)")
    level: Level = Field("warning", description="the lowest state this channel receives")
    checks: list[str] = Field(default_factory=list, max_length=100,
                              description="only these checks: names, globs (disks_*) or area "
                                          "words (disks); empty: every check")

    @field_validator("checks")
    @classmethod
    def _patterns(cls, checks: list[str]) -> list[str]:
        for c in checks:
            if not re.fullmatch(r"[A-Za-z0-9_*?\[\]-]{1,64}", c):
                raise ValueError(f"checks: {c!r} is not a check name, glob or area word")
        return checks

    def label(self) -> str:
        return self.name or redacted(self.url.get_secret_value())


class QuietHours(BaseModel):
    """A daily window (local time; end before start crosses midnight) during which warnings are
    held; critical still goes out unless ``hold_critical``."""
    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=HHMM)
    end: str = Field(pattern=HHMM)
    hold_critical: bool = False


class NotifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[Channel] = Field(default_factory=list, max_length=20)
    public_url: str = Field("", max_length=500, pattern=r"^(https?://[^\s]*)?$",
                            description="the console's address for the link in each message")
    remind_every: float = Field(3600.0, ge=0, le=7 * 86400,
                                description="seconds between reminders of an episode still open; 0: none")
    unknown_after: float = Field(60.0, ge=0, le=86400,
                                 description="seconds a check (or the judgment) stays unknown before it is sent")
    unavailable_after: float = Field(300.0, ge=0, le=86400,
                                     description="seconds an area stays unreadable before it is sent")
    heartbeat_url: SecretStr | None = Field(
        None, description="an http(s) URL fetched (GET) every heartbeat_every seconds while the "
                          "console samples and judges: an outside dead-man's switch")
    heartbeat_every: float = Field(300.0, ge=1, le=86400)
    quiet_hours: list[QuietHours] = Field(default_factory=list, max_length=20)
    timeout: float = Field(10.0, gt=0, le=120, description="seconds per delivery attempt")
    retries: int = Field(3, ge=0, le=10, description="attempts after the first one fails")
    backoff: float = Field(2.0, gt=0, le=600,
                           description="seconds before the first retry; doubled for each next one")
    queue: int = Field(50, ge=1, le=10_000,
                       description="messages waiting per channel; beyond it the oldest is dropped")

    @field_validator("heartbeat_url")
    @classmethod
    def _http(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and urlsplit(url.get_secret_value()).scheme not in ("http", "https"):
            raise ValueError("heartbeat_url: must be an http:// or https:// URL")
        return url

    @property
    def enabled(self) -> bool:
        return bool(self.channels or self.heartbeat_url)


def redacted(url: str) -> str:
    """An Apprise URL as it may be shown: the scheme and the host, nothing that can be a secret.

    >>> redacted("mailtos://alerts:app-pass@smtp.example.com:465?to=ops@example.com")
    'mailtos://smtp.example.com:465/…'
    >>> redacted("json://127.0.0.1:8080/hook?token=abc")
    'json://127.0.0.1:8080/…'
    >>> redacted("tgram://123456:AAE-bot-token/987654")   # the "host" is the bot's token
    'tgram://***/…'
    >>> redacted("not a url")
    '***'
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "***"
    scheme = parts.scheme.lower()
    if not re.fullmatch(r"[a-z][a-z0-9+.-]{0,31}", scheme) or "://" not in url:
        return "***"
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:  # "host:port" that is no port: a token with a colon (Telegram's)
        return f"{scheme}://***/…"
    shown = host if _is_host(host) else "***"
    if port is not None and shown != "***":
        shown += f":{port}"
    rest = "/…" if (parts.path.strip("/") or parts.query or parts.username or shown == "***") else ""
    return f"{scheme}://{shown}{rest}"


def _is_host(host: str) -> bool:
    """A name that is a host (an address, localhost, or a dotted DNS name), not a token or topic."""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    return (len(labels) >= 2 and len(host) <= 253 and labels[-1].isalpha()
            and all(re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", x) for x in labels))


def secrets_of(url: str) -> list[str]:
    """The parts of a URL that may be secret (user, password, path segments, query values), longest
    first: an error text that quotes one of them has it replaced before it is kept or logged."""
    try:
        parts = urlsplit(url)
        pieces = [parts.username, parts.password, parts.hostname if not _is_host(parts.hostname or "") else None,
                  *parts.path.split("/"), *(v for _, _, v in (q.partition("=") for q in parts.query.split("&")))]
    except ValueError:
        pieces = []
    from urllib.parse import unquote
    found = {p for p in pieces if p and len(p) >= 3} | {unquote(p) for p in pieces if p and len(p) >= 3}
    return sorted(found | {url}, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret in ``secrets`` replaced by ***."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text
