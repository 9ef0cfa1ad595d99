"""systemd's units over D-Bus (org.freedesktop.systemd1), kept current by its signals.

Where the connection lives, and why: dbus-fast is asyncio, while the sampler runs each
collector's ``collect()`` in a worker thread. ``UnitWatcher`` owns one thread with its own event
loop and its own bus connection, so the area neither depends on the app's loop (tests, bench and
the sampler build collectors without one) nor can a slow bus hold a tick: ``collect()`` only
swaps out, under a lock, what changed since the last call (``take()``), which is O(changes).

At connect it lists every unit once (ListUnits, then Properties.Get of the few properties kept
per unit of a type we show), calls Manager.Subscribe and then follows signals: PropertiesChanged
carries the new values, applied as they come (no call back); only what systemd does not signal
(ControlGroup, after a state change) and units new to us (UnitNew, JobRemoved of an unknown unit)
are read; UnitRemoved drops a unit; Reloading (done) re-lists everything. A lost connection makes ``take()`` raise (the area is unavailable,
its checks unknown) until a reconnect, tried every RETRY seconds.

A host without systemd (no bus socket, or no org.freedesktop.systemd1 on it) is ``absent``: a
fact about the host, not a failure (the card says "no systemd on this host").
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # dbus-fast is imported by the first session: a host with no bus never pays its 2 MiB
    from dbus_fast import Message
    from dbus_fast.aio import MessageBus

from .services_read import (
    CALL_TIMEOUT,
    DEST,
    IN_FLIGHT,
    MANAGER,
    MAX_UNITS,
    ROOT,
    TYPE_PROPS,
    TYPES,
    UNIT_PROPS,
    Raw,
    UnitReader,
    unit_type,
)

SYSTEM_BUS = "unix:path=/run/dbus/system_bus_socket"
RETRY = 5.0  # seconds between two connection attempts
JOB_TIMEOUT = 30.0  # seconds a unit job (views/actions_units.py) may take before we stop waiting
JOB_METHODS = {"restart": "RestartUnit", "stop": "StopUnit", "start": "StartUnit", "reload": "ReloadUnit"}
DENIED = {"org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"}
log = logging.getLogger("server_monitor.services")


def socket_path(address: str) -> str | None:
    for part in address.split(";")[0].split(":", 1)[-1].split(","):
        if part.startswith("path="):
            return part[5:]
    return None


class UnitWatcher(UnitReader):
    def __init__(self, address: str = SYSTEM_BUS):
        self.address = address
        self._lock = threading.Lock()
        self._units: dict[str, Raw] = {}  # name -> kept properties
        self._paths: dict[str, str] = {}  # object path -> name
        self._changed: set[str] = set()  # names changed (or removed) since the last take()
        self._error: str | None = "not connected yet"
        self._absent: str | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bus: MessageBus | None = None
        self._wake: asyncio.Event | None = None  # a connected session's: set by a signal or close()
        self._jobs: dict[str, tuple[threading.Event, dict]] = {}  # job path -> waiter
        self._finished: dict[str, str] = {}  # job path -> result, for a waiter not yet there
        self.full_reads = 0  # ListUnits passes (connect, Reloading): bench and tests read it
        self.unit_reads = 0  # units read (each a few Properties.Get calls)

    # -- the collector's side (any thread) --
    def start(self, wait: float = 0.0) -> UnitWatcher:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="services-bus", daemon=True)
            self._thread.start()
        self._ready.wait(wait)
        return self

    def close(self) -> None:
        self._stop.set()
        if self._loop is not None and self._wake is not None:  # a connected session waits on it
            with contextlib.suppress(RuntimeError):  # its loop already closed
                self._loop.call_soon_threadsafe(self._wake.set)
        if self._thread is not None:
            self._thread.join(5)
        self._thread = None

    def take(self) -> tuple[str | None, dict[str, Raw | None]]:
        """(absent reason or None, name -> properties or None if removed) changed since the last
        call. Raises ConnectionError when the bus is lost (the area is then unavailable)."""
        with self._lock:
            if self._absent:
                return self._absent, {}
            if self._error:
                raise ConnectionError(self._error)
            out = {n: self._units.get(n) for n in self._changed}
            self._changed = set()
            return None, out

    def job(self, verb: str, unit: str, timeout: float = JOB_TIMEOUT) -> str:
        """Restart, stop, start or reload ``unit`` through this connection (mode "replace") and
        wait for systemd's JobRemoved: its result ("done", "failed", "canceled", "timeout",
        "dependency", "skipped"). ConnectionError without a bus, PermissionError when systemd
        (polkit) refuses, LookupError for no such unit, TimeoutError when it takes too long."""
        loop, bus = self._loop, self._bus
        if loop is None or bus is None or not bus.connected:
            raise ConnectionError(self._absent or self._error or "not connected to systemd")
        done, box = threading.Event(), {}

        async def send() -> None:
            from dbus_fast import Message, MessageType
            reply = await asyncio.wait_for(bus.call(Message(
                destination=DEST, path=ROOT, interface=MANAGER, member=JOB_METHODS[verb],
                signature="ss", body=[unit, "replace"])), CALL_TIMEOUT)
            if reply.message_type == MessageType.ERROR:
                why = f"{reply.error_name}: {reply.body[0] if reply.body else ''}"[:300]
                box["error"] = (PermissionError if reply.error_name in DENIED else
                                LookupError if "NoSuchUnit" in (reply.error_name or "") else RuntimeError)(why)
                done.set()
                return
            path = reply.body[0]
            if path in self._finished:  # JobRemoved came before this coroutine resumed
                box["result"] = self._finished.pop(path)
                done.set()
            else:
                self._jobs[path] = (done, box)

        asyncio.run_coroutine_threadsafe(send(), loop).result(CALL_TIMEOUT + 1)
        if not done.wait(timeout):
            raise TimeoutError(f"systemd's {verb} job for {unit} did not finish in {timeout:g} s")
        if "error" in box:
            raise box["error"]
        return box["result"]

    # -- the bus thread --
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        # dbus-fast leaves a write future failing with EBADF when the peer vanished: already
        # handled as a lost connection (the session ends), not worth a traceback on stderr
        loop.set_exception_handler(lambda _loop, ctx: log.debug("bus loop: %s", ctx.get("message")))
        try:
            while not self._stop.is_set():
                try:
                    loop.run_until_complete(self._session())
                except Exception as exc:  # noqa: BLE001 - any bus failure: unavailable, retry
                    with self._lock:
                        self._error = f"systemd's bus: {type(exc).__name__}: {exc}"[:300]
                self._ready.set()
                self._stop.wait(RETRY)
        finally:
            loop.close()

    async def _session(self) -> None:
        path = socket_path(self.address)
        if path is not None and not os.path.exists(path):
            return self._set_absent("no systemd on this host (no system bus)")
        from dbus_fast import BusType
        from dbus_fast.aio import MessageBus
        bus = await asyncio.wait_for(
            MessageBus(bus_address=self.address, bus_type=BusType.SYSTEM).connect(), CALL_TIMEOUT)
        self._calls = asyncio.Semaphore(IN_FLIGHT)
        self._bus = bus
        try:
            owner = await self._call(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "NameHasOwner", "s", [DEST])
            if not owner[0]:
                return self._set_absent("no systemd on this host")
            self._dirty: set[str] = set()
            self._wake = asyncio.Event()
            bus.add_message_handler(self._on_message)
            for rule in (f"type='signal',sender='{DEST}',interface='{MANAGER}'",
                         (f"type='signal',sender='{DEST}',interface='org.freedesktop.DBus.Properties',"
                          f"member='PropertiesChanged',path_namespace='{ROOT}/unit'")):
                await self._call(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "AddMatch", "s", [rule])
            await self._call(bus, DEST, ROOT, MANAGER, "Subscribe")
            await self._read_all(bus)
            with self._lock:
                self._error = self._absent = None
            self._ready.set()
            # Woken by a signal, by close() or by the connection's end, never by a clock: an
            # idle host's bus thread sleeps (it looked twice a second, issue 19).
            lost = asyncio.ensure_future(bus.wait_for_disconnect())
            lost.add_done_callback(lambda f: f.cancelled() or f.exception())  # its error: retrieved
            try:
                while not self._stop.is_set() and bus.connected:
                    woken = asyncio.ensure_future(self._wake.wait())
                    await asyncio.wait((woken, lost), return_when=asyncio.FIRST_COMPLETED)
                    woken.cancel()
                    if self._stop.is_set() or lost.done():
                        break
                    await self._follow(bus)
            finally:
                lost.cancel()
            if not self._stop.is_set():
                raise ConnectionError("the bus connection closed")
        finally:
            bus.disconnect()

    async def _follow(self, bus: MessageBus) -> None:
        """Read what the signals since the last wake-up said changed."""
        await asyncio.sleep(0.02)  # let a burst of signals coalesce
        self._wake.clear()
        if "" in self._dirty:  # a daemon-reload: everything may have changed
            self._dirty.clear()
            await self._read_all(bus)
        else:
            names, self._dirty = self._dirty, set()
            await self._read_units(bus, sorted(names))

    def _set_absent(self, why: str) -> None:
        with self._lock:
            self._absent, self._error = why, None
            self._units.clear()

    def _on_message(self, msg: Message) -> None:
        from dbus_fast import MessageType
        if msg.message_type != MessageType.SIGNAL or not msg.body:
            return
        name = None
        if msg.member == "PropertiesChanged":
            name = self._paths.get(msg.path or "")
            if name is not None and self._apply(name, msg.body[1], msg.body[2]):
                return
        elif msg.member == "UnitNew":
            name = msg.body[0]
            if unit_type(name) in TYPES and len(self._paths) < MAX_UNITS:
                self._paths[msg.body[1]] = name
        elif msg.member == "UnitRemoved":
            self._paths.pop(msg.body[1], None)
            with self._lock:
                if self._units.pop(msg.body[0], None) is not None:
                    self._changed.add(msg.body[0])
            return
        elif msg.member == "JobRemoved" and len(msg.body) >= 4:
            self._job_done(msg.body[1], msg.body[3])
            name = msg.body[2]
            with self._lock:
                if name in self._units:
                    return  # its PropertiesChanged say what the job did
        elif msg.member == "Reloading" and not msg.body[0]:
            name = ""
        if name is not None and (name == "" or unit_type(name) in TYPES):
            self._dirty.add(name)
            self._wake.set()

    def _job_done(self, path: str, result: str) -> None:
        waiter = self._jobs.pop(path, None)
        if waiter is None:
            self._finished[path] = result  # a job() still waiting for its reply, or not ours
            while len(self._finished) > 64:
                self._finished.pop(next(iter(self._finished)))
            return
        waiter[1]["result"] = result
        waiter[0].set()

    def _apply(self, name: str, changed: dict, invalidated: list) -> bool:
        """Apply a PropertiesChanged in place; False when the unit must be read instead."""
        kept = UNIT_PROPS + TYPE_PROPS.get(unit_type(name), ())
        with self._lock:
            props = self._units.get(name)
            if props is None:
                return False
            new = {k: v.value for k, v in changed.items() if k in kept}
            if new:
                self._units[name] = props = {**props, **new}
                self._changed.add(name)
        # False: a value we keep was only invalidated, or the cgroup may have moved (systemd
        # does not signal ControlGroup)
        return not (any(k in kept for k in invalidated) or ("ActiveState" in new and "ControlGroup" in kept))
