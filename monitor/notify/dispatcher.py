"""The notifier: its own asyncio task reads each new snapshot, finds what changed (changes.py),
routes it to each channel (level, check filter, maintenance, reminders) and queues one message per
channel per tick; a delivery task per channel sends them, each attempt in a daemon thread.

Never in the way: the sampler and the judge never wait for any of this (the notifier waits on
``Store.wait_newer`` like any stream); a queue holds at most ``queue`` messages per channel (the
oldest dropped, counted); an attempt has ``timeout`` seconds, a failed one is retried ``retries``
times after ``backoff`` s, doubled each time; a message given up is counted
(``server_monitor_notifications_failed_total``), logged and shown until a later one goes out.
"""
from __future__ import annotations

import asyncio
import logging
import platform
import threading
import time
import weakref
from collections import deque

from ..text import clean
from . import register
from .changes import Watcher
from .maintenance import Maintenance, Window
from .message import Message, when, who
from .routing import Route, message_for, route
from .settings import NotifySettings, redacted
from .worker import Attempt, in_thread

log = logging.getLogger("server_monitor.notify")

ATTEMPTS_KEPT = 50
BACKOFF_MAX = 300.0


class Notifier:
    def __init__(self, settings: NotifySettings, store, events=None, host: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.events = events  # monitor.events.EventLog
        self.host = clean(host or platform.node() or "this host", 64)
        self.watcher = Watcher(settings.unknown_after, settings.unavailable_after)
        self.maintenance = Maintenance(settings.quiet_hours)
        self.routes: list[Route] = [Route(None, c.label(), c.level, list(c.checks)) for c in settings.channels]
        self.attempts: deque[Attempt] = deque(maxlen=ATTEMPTS_KEPT)
        self.heartbeat: dict = {"last_at": None, "last_error": None, "ok": 0, "failed": 0}
        self._last_ping = 0.0
        self._pinging = False
        self._testing = False
        self._ping_thread: threading.Thread | None = None
        self._tasks: list[asyncio.Task] = []
        self._seen: deque = deque(maxlen=5)  # weak refs to the last snapshots stepped
        if store is not None:  # None: `python main.py notify-test`, no console running
            register(store, self)

    # --- life -----------------------------------------------------------------------------
    def start(self, sampler_task: asyncio.Task | None = None) -> None:
        """Start the tasks (nothing when nothing is configured); they stop with the sampler's."""
        if not self.settings.enabled:
            return
        self.build_targets()
        self._tasks.append(asyncio.create_task(self._watch(), name="notify"))
        for r in self.routes:
            r.wake = asyncio.Event()
            self._tasks.append(asyncio.create_task(self._deliver(r), name=f"notify-{r.target.index}"))
        if sampler_task is not None:
            sampler_task.add_done_callback(lambda _: self.stop())

    def build_targets(self) -> None:
        from . import channels  # imports Apprise: only here, with a channel configured
        for i, (r, c) in enumerate(zip(self.routes, self.settings.channels)):
            if r.target is None:
                r.target = channels.build(i, c, self.settings.timeout)
                if r.target.invalid:
                    r.last_error, r.failing_since = r.target.invalid, time.time()
                    log.error("notification channel %s: %s", r.label, r.target.invalid)

    def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        self._tasks.clear()

    # --- one tick -------------------------------------------------------------------------
    async def _watch(self) -> None:
        seq = -1
        while True:
            snap = self.store.latest
            if snap is None or snap.seq <= seq:
                snap = await self.store.wait_newer(seq)
            seq = snap.seq
            try:
                self.step(snap)
            except Exception:  # a bug here must not end notifications for good
                log.exception("notifications: tick %d could not be processed", seq)

    def step(self, snap) -> None:
        now = snap.taken_at
        self._seen.append(weakref.ref(snap))
        changes = self.watcher.step(snap, self.events)
        window = self.maintenance.window(now)
        for r in self.routes:
            items = route(r, changes, self.watcher.open, window, now, self.settings.remind_every)
            if items:
                self.enqueue(r, message_for(snap, items, window, self.host, self.settings.public_url))
        self._heartbeat(snap)

    # --- delivery -------------------------------------------------------------------------
    def enqueue(self, r: Route, message: Message) -> None:
        if len(r.queue) >= self.settings.queue:
            r.queue.popleft()
            r.dropped += 1
            log.warning("notification channel %s: queue full, dropped the oldest message (%d so far)",
                        r.label, r.dropped)
        r.queue.append(message)
        if r.wake is not None:
            r.wake.set()

    async def _deliver(self, r: Route) -> None:
        assert r.wake is not None
        while True:
            await r.wake.wait()
            r.wake.clear()
            while r.queue:
                try:
                    await self._send_with_retries(r, r.queue.popleft())
                except Exception:  # a bug must not end this channel's deliveries
                    log.exception("notification channel %s: delivery failed", r.label)

    async def _send_with_retries(self, r: Route, message: Message) -> bool:
        s = self.settings
        for n in range(1, s.retries + 2):
            if await self.attempt(r, message, n) is None:
                return True
            if n <= s.retries:
                await asyncio.sleep(min(BACKOFF_MAX, s.backoff * 2 ** (n - 1)))
        r.failed += 1
        r.failing_since = r.failing_since or time.time()
        log.warning("notification channel %s: gave up on %r after %d attempts: %s",
                    r.label, message.subject, s.retries + 1, r.last_error)
        self._record(r, "notifications_failed", "warning",
                     f"notification channel {r.label} gave up on \"{message.subject}\" after "
                     f"{s.retries + 1} attempts: {r.last_error}")
        return False

    def _record(self, r: Route, check: str, state: str, reason: str) -> None:
        """A channel that gave up, and its first delivery after that, as events (/api/events)."""
        if self.events is not None:
            self.events.note(check, "notifications", r.label, state, reason, time.time())

    async def attempt(self, r: Route, message: Message, n: int = 1, test: bool = False) -> str | None:
        """One attempt in a daemon thread, at most ``timeout`` (+1 s) long; None when it went out."""
        from . import channels
        t0 = time.monotonic()
        if r.thread is not None and r.thread.is_alive():  # at most one thread per channel
            error = "the previous attempt has not returned yet (a name lookup or a socket stuck)"
        else:
            fut, r.thread = in_thread(channels.send, r.target, message)
            try:
                error = await asyncio.wait_for(fut, self.settings.timeout + 1)
            except TimeoutError:
                error = f"no answer within {self.settings.timeout:g} s"
        took = time.monotonic() - t0
        self.attempts.append(Attempt(time.time(), r.label, message.subject, n, error is None, error,
                                     round(took, 3), test))
        if error is None:
            r.sent += 1
            if r.failing_since is not None and not test:
                self._record(r, "notifications_delivered", "ok",
                             f"notification channel {r.label} delivers again (failing since "
                             f"{time.strftime('%H:%M:%S %Z', time.localtime(r.failing_since))})")
            r.last_ok, r.failing_since, r.last_error = time.time(), None, None
        else:
            r.last_error = error
            if n == 1 and not test:
                log.info("notification channel %s: attempt failed: %s", r.label, error)
        return error

    async def test(self) -> list[tuple[str, str | None]] | None:
        """A test message to every channel at once, one attempt each: (label, error or None).
        None while another test is still running (one at a time: each attempt is a thread)."""
        if self._testing:
            return None
        self._testing = True
        try:
            return await self._test()
        finally:
            self._testing = False

    async def _test(self) -> list[tuple[str, str | None]]:
        self.build_targets()
        msg = Message(f"[TEST] {self.host}: test message from server-monitor",
                      f"{self.host}: this is a test message from server-monitor ({when(time.time())}).\n"
                      "If you read this, this channel works.\n"
                      + (f"\nConsole: {self.settings.public_url.rstrip('/')}/dashboard\n"
                         if self.settings.public_url else ""), "info")
        errors = await asyncio.gather(*(self.attempt(r, msg, 1, test=True) for r in self.routes))
        return [(r.label, e) for r, e in zip(self.routes, errors)]

    def _heartbeat(self, snap) -> None:
        url = self.settings.heartbeat_url
        if url is None or self._pinging or snap.judge_error is not None or \
                (self._ping_thread is not None and self._ping_thread.is_alive()):
            return
        now = time.monotonic()
        if self._last_ping and now - self._last_ping < self.settings.heartbeat_every:
            return
        self._last_ping, self._pinging = now, True
        self._tasks.append(asyncio.ensure_future(self._ping(url.get_secret_value())))

    async def _ping(self, url: str) -> None:
        from . import channels
        try:
            fut, self._ping_thread = in_thread(channels.ping, url, self.settings.timeout)
            error = await asyncio.wait_for(fut, self.settings.timeout + 1)
        except TimeoutError:
            error = f"no answer within {self.settings.timeout:g} s"
        finally:
            self._pinging = False
            self._tasks[:] = [t for t in self._tasks if not t.done()]
        self.heartbeat.update(last_at=time.time(), last_error=error)
        self.heartbeat["ok" if error is None else "failed"] += 1
        if error is not None:
            log.warning("heartbeat %s failed: %s", redacted(url), error)

    # --- what pages and the API show ------------------------------------------------------
    def window(self, now: float | None = None) -> Window | None:
        return self.maintenance.window(time.time() if now is None else now)

    def knows(self, snap) -> bool:
        return (self.store is not None and self.store.latest is snap) or any(ref() is snap for ref in self._seen)

    def failing(self) -> list[Route]:
        return [r for r in self.routes if r.failing_since is not None]

    def status(self) -> dict:
        w = self.window()
        return {
            "enabled": self.settings.enabled,
            "channels": [{
                "index": i, "name": r.label, "level": r.level, "checks": r.checks,
                "state": ("invalid" if r.target is not None and r.target.invalid else
                          "failing" if r.failing_since is not None else
                          "ok" if r.last_ok is not None else "idle"),
                "queued": len(r.queue), "dropped": r.dropped, "sent": r.sent, "failed": r.failed,
                "failing_since": r.failing_since, "last_ok": r.last_ok, "last_error": r.last_error,
                "open": sorted(r.told), "held": sorted(r.held),
            } for i, r in enumerate(self.routes)],
            "attempts": [a.__dict__ for a in reversed(self.attempts)],
            "maintenance": None if w is None else {"until": w.until, "hold_critical": w.hold_critical,
                                                    "why": w.why},
            "heartbeat": None if self.settings.heartbeat_url is None else {
                "url": redacted(self.settings.heartbeat_url.get_secret_value()),
                "every": self.settings.heartbeat_every, **self.heartbeat},
            "remind_every": self.settings.remind_every,
        }


__all__ = ["Attempt", "Notifier", "Route", "who"]
