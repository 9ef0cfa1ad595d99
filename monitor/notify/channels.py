"""Delivery through Apprise, and the heartbeat ping: blocking calls, run in worker threads.

Apprise (and requests, markdown, ...) is imported here, on the first channel built: a console
without channels never imports it. Each channel is one Apprise plugin instance with the
per-attempt timeout as its socket timeouts and Apprise's own retries off (the dispatcher retries
with backoff). Apprise says why a send failed only in its log, so its records are caught per
thread and kept (secrets scrubbed) as the attempt's error; its logger never reaches the console's
log, which gets our own line with the redacted URL instead.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from ..text import clean
from .message import Message
from .settings import Channel, redacted, scrub, secrets_of

ERROR_MAX = 300  # characters of an error kept per attempt


class _Catch(logging.Handler):
    """Apprise's warnings and errors, kept per thread (each attempt runs in its own thread)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.by_thread: dict[int, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        lines = self.by_thread.get(record.thread or 0)
        if lines is not None and len(lines) < 5:
            try:
                lines.append(record.getMessage())
            except Exception:  # noqa: BLE001 - a broken record is no reason to fail a send
                pass


_catch: _Catch | None = None
_lock = threading.Lock()


def _apprise():
    """Import Apprise once, route its log to ``_catch`` only."""
    global _catch
    with _lock:
        import apprise
        if _catch is None:
            _catch = _Catch()
            logger = logging.getLogger("apprise")
            logger.handlers[:] = [_catch]
            logger.propagate = False
            logger.setLevel(logging.WARNING)
    return apprise


@dataclass
class Target:
    """A configured channel made ready to send."""
    index: int
    label: str  # the channel's name or redacted URL: safe to show
    level: str
    checks: list[str]
    url: str = field(repr=False)
    plugin: object | None = field(default=None, repr=False)
    invalid: str | None = None  # why Apprise could not use the URL

    @property
    def secrets(self) -> list[str]:
        return secrets_of(self.url)


def build(index: int, channel: Channel, timeout: float) -> Target:
    url = channel.url.get_secret_value()
    target = Target(index, channel.label(), channel.level, list(channel.checks), url)
    apprise = _apprise()
    try:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:  # noqa: BLE001 - any failure: the channel is invalid, not the console
        plugin = None
    if plugin is None:
        target.invalid = f"Apprise cannot use this URL ({redacted(url)}): unknown scheme or missing part"
        return target
    plugin.socket_connect_timeout = plugin.socket_read_timeout = timeout
    plugin.retry = 0  # the dispatcher retries, with backoff
    if "format=" not in url:  # plain text everywhere: e-mail keeps the line breaks
        plugin.notify_format = apprise.NotifyFormat.TEXT
    target.plugin = plugin
    return target


def send(target: Target, message: Message) -> str | None:
    """Deliver once (blocking): None when it went out, else why not (no secret in it)."""
    if target.plugin is None:
        return target.invalid or "not configured"
    apprise = _apprise()
    me = threading.get_ident()
    assert _catch is not None
    _catch.by_thread[me] = []
    try:
        ok = target.plugin.notify(body=message.body, title=message.subject,
                                  notify_type=message.type, body_format=apprise.NotifyFormat.TEXT)
        if ok:
            return None
        why = "; ".join(_catch.by_thread.get(me, [])) or "the channel refused the message"
    except Exception as exc:  # noqa: BLE001 - a plugin bug is a failed attempt
        why = f"{type(exc).__name__}: {exc}"
    finally:
        lines = _catch.by_thread.pop(me, None)
        del lines
    return clean(scrub(why, target.secrets), ERROR_MAX)


def ping(url: str, timeout: float) -> str | None:
    """GET the heartbeat URL once: None on a 2xx answer, else why not (no secret in it)."""
    import urllib.request
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "server-monitor"}),
                                    timeout=timeout) as r:
            r.read(4096)
            if 200 <= r.status < 300:
                return None
            why = f"HTTP {r.status}"
    except Exception as exc:  # noqa: BLE001 - refused, timed out, HTTP error: a failed ping
        why = f"{type(exc).__name__}: {exc}"
    return clean(scrub(why, secrets_of(url)), ERROR_MAX)
