"""systemd's notify protocol (sd_notify(3)) without a dependency: one datagram per message.

The unit (deploy/server-monitor.service) is ``Type=notify`` with ``WatchdogSec=``. The Sampler
says ``READY=1`` once it is ticking, ``WATCHDOG=1`` after each tick it actually published, and
``STOPPING=1`` when it is closed. A sampler that stops publishing (the event loop blocked, the
tick loop stuck or dead) therefore stops the pings, and systemd restarts the console once
``WatchdogSec`` passes; a hung collector or a slow judgment does not, since ticks go on without
them (monitor/sampler.py).

Without ``$NOTIFY_SOCKET`` (not started by systemd, tests, a terminal) every call does nothing.
"""
from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger("server_monitor.watchdog")


class Notifier:
    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        # "@name" is a socket in Linux's abstract namespace: its address starts with a NUL byte.
        self.address = ("\0" + address[1:]) if address and address.startswith("@") else address
        # Ping often enough that one late tick never lets the watchdog fire (a quarter of its
        # period), and no more than once a second: a 0.1 s tick need not send ten datagrams.
        period = watchdog_usec / 1e6 if watchdog_usec else None
        self.ping_every = min(1.0, period / 4) if period else 1.0
        self._last_ping = float("-inf")
        self._sock: socket.socket | None = None

    @classmethod
    def from_env(cls) -> Notifier:
        """The address systemd gave this process. The variables are removed from the environment
        so that child processes (journalctl) do not inherit them and speak for the console."""
        address = os.environ.pop("NOTIFY_SOCKET", None)
        usec = os.environ.pop("WATCHDOG_USEC", None)
        pid = os.environ.pop("WATCHDOG_PID", None)
        if pid and pid.isdigit() and int(pid) != os.getpid():
            usec = None  # the watchdog is meant for another process (sd_watchdog_enabled(3))
        return cls(address, int(usec) if usec and usec.isdigit() else None)

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, message: str) -> bool:
        """Send one message; False when there is no socket or it cannot be reached (logged, never
        raised: a console that cannot tell systemd it is alive must still serve its pages)."""
        if not self.address:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode(), self.address)
            return True
        except OSError as exc:
            log.warning("cannot notify systemd at %r: %s", self.address, exc)
            return False

    def ready(self) -> bool:
        return self.notify("READY=1\nSTATUS=sampling")

    def ping(self) -> bool:
        """After a published tick: ``WATCHDOG=1``, at most once per ``ping_every`` seconds."""
        now = time.monotonic()
        if not self.address or now - self._last_ping < self.ping_every:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        sent = self.notify("STOPPING=1")
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        return sent
