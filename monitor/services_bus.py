"""systemd's units over D-Bus (org.freedesktop.systemd1), kept current by its signals.

Where the connection lives, and why: dbus-fast is asyncio, while the sampler runs each
collector's ``collect()`` in a worker thread. ``UnitWatcher`` owns one thread with its own event
loop and its own bus connection, so the area neither depends on the app's loop (tests, bench and
the sampler build collectors without one) nor can a slow bus hold a tick: ``collect()`` only
swaps out, under a lock, what changed since the last call (``take()``), which is O(changes).

At connect it lists every unit once (ListUnits, then GetAll per unit of a type we show), calls
Manager.Subscribe and then follows signals: PropertiesChanged on a unit's object, JobRemoved,
UnitNew and UnitRemoved mark units dirty; dirty units are re-read (GetAll, batched); Reloading
(done) re-lists everything. A lost connection makes ``take()`` raise (the area is unavailable,
its checks unknown) until a reconnect, tried every RETRY seconds.

A host without systemd (no bus socket, or no org.freedesktop.systemd1 on it) is ``absent``: a
fact about the host, not a failure (the card says "no systemd on this host").
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

SYSTEM_BUS = "unix:path=/run/dbus/system_bus_socket"
DEST, ROOT = "org.freedesktop.systemd1", "/org/freedesktop/systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"
TYPES = ("service", "socket", "timer", "mount", "scope")
IFACE = {t: f"org.freedesktop.systemd1.{t.capitalize()}" for t in TYPES}
RETRY = 5.0
CALL_TIMEOUT = 10.0
BATCH = 64  # GetAll calls in flight at once
MAX_UNITS = 20_000  # bound what one host can make us hold

# Properties kept per unit (the rest of GetAll's answer is dropped at once).
UNIT_PROPS = ("Id", "Description", "LoadState", "ActiveState", "SubState",
              "StateChangeTimestamp", "ActiveEnterTimestamp", "InactiveEnterTimestamp")
TYPE_PROPS = ("MainPID", "NRestarts", "Result", "ControlGroup", "NextElapseUSecRealtime",
              "LastTriggerUSec", "NConnections")

Raw = dict[str, Any]
log = logging.getLogger("server_monitor.services")


def unit_type(name: str) -> str:
    return name.rsplit(".", 1)[-1] if "." in name else ""


def socket_path(address: str) -> str | None:
    for part in address.split(";")[0].split(":", 1)[-1].split(","):
        if part.startswith("path="):
            return part[5:]
    return None


class UnitWatcher:
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
        self.full_reads = 0  # ListUnits passes (connect, Reloading): bench and tests read it
        self.unit_reads = 0  # GetAll round trips

    # -- the collector's side (any thread) --
    def start(self, wait: float = 0.0) -> "UnitWatcher":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="services-bus", daemon=True)
            self._thread.start()
        self._ready.wait(wait)
        return self

    def close(self) -> None:
        self._stop.set()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: None)
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

    def everything(self) -> dict[str, Raw]:
        with self._lock:
            self._changed = set()
            return dict(self._units)

    # -- the bus thread --
    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
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
        bus = await asyncio.wait_for(
            MessageBus(bus_address=self.address, bus_type=BusType.SYSTEM).connect(), CALL_TIMEOUT)
        try:
            owner = await self._call(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "NameHasOwner", "s", [DEST])
            if not owner[0]:
                return self._set_absent("no systemd on this host")
            self._dirty: set[str] = set()
            self._wake = asyncio.Event()
            bus.add_message_handler(self._on_message)
            for rule in (f"type='signal',sender='{DEST}',interface='{MANAGER}'",
                         f"type='signal',sender='{DEST}',interface='org.freedesktop.DBus.Properties',"
                         f"member='PropertiesChanged',path_namespace='{ROOT}/unit'"):
                await self._call(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "AddMatch", "s", [rule])
            await self._call(bus, DEST, ROOT, MANAGER, "Subscribe")
            await self._read_all(bus)
            with self._lock:
                self._error = self._absent = None
            self._ready.set()
            while not self._stop.is_set() and bus.connected:
                try:
                    await asyncio.wait_for(self._wake.wait(), 0.5)
                except asyncio.TimeoutError:
                    continue
                await asyncio.sleep(0.02)  # let a burst of signals coalesce
                self._wake.clear()
                if "" in self._dirty:  # a daemon-reload: everything may have changed
                    self._dirty.clear()
                    await self._read_all(bus)
                else:
                    names, self._dirty = self._dirty, set()
                    await self._read_units(bus, sorted(names))
            if not self._stop.is_set():
                raise ConnectionError("the bus connection closed")
        finally:
            bus.disconnect()

    def _set_absent(self, why: str) -> None:
        with self._lock:
            self._absent, self._error = why, None
            self._units.clear()

    def _on_message(self, msg: Message) -> None:
        if msg.message_type != MessageType.SIGNAL:
            return
        name = None
        if msg.member == "PropertiesChanged":
            name = self._paths.get(msg.path or "")
        elif msg.member in ("UnitNew", "UnitRemoved") and msg.body:
            name = msg.body[0]
            if msg.member == "UnitNew" and unit_type(name) in TYPES and len(self._paths) < MAX_UNITS:
                self._paths[msg.body[1]] = name
        elif msg.member == "JobRemoved" and len(msg.body) >= 3:
            name = msg.body[2]
        elif msg.member == "Reloading" and msg.body and not msg.body[0]:
            name = ""
        if name is not None and (name == "" or unit_type(name) in TYPES):
            self._dirty.add(name)
            self._wake.set()

    async def _call(self, bus: MessageBus, dest: str, path: str, iface: str, member: str,
                    sig: str = "", body: list | None = None) -> list:
        reply = await asyncio.wait_for(bus.call(Message(
            destination=dest, path=path, interface=iface, member=member, signature=sig,
            body=body or [])), CALL_TIMEOUT)
        if reply.message_type == MessageType.ERROR:
            raise LookupError(f"{member}: {reply.error_name}: {reply.body[0] if reply.body else ''}")
        return reply.body

    async def _read_all(self, bus: MessageBus) -> None:
        (listed,) = await self._call(bus, DEST, ROOT, MANAGER, "ListUnits")
        self.full_reads += 1
        keep = [(u[0], u[6]) for u in listed if unit_type(u[0]) in TYPES][:MAX_UNITS]
        self._paths = {path: name for name, path in keep}
        with self._lock:
            gone = set(self._units) - {n for n, _ in keep}
            for n in gone:
                del self._units[n]
            self._changed |= gone
        await self._read_units(bus, [n for n, _ in keep])

    async def _read_units(self, bus: MessageBus, names: list[str]) -> None:
        by_name = {n: p for p, n in self._paths.items()}
        for i in range(0, len(names), BATCH):
            chunk = [n for n in names[i:i + BATCH]]
            got = await asyncio.gather(*(self._read_unit(bus, n, by_name.get(n)) for n in chunk))
            with self._lock:
                for n, props in zip(chunk, got):
                    if props is None:
                        self._units.pop(n, None)
                        for p in [p for p, m in self._paths.items() if m == n]:
                            del self._paths[p]
                    else:
                        self._units[n] = props
                    self._changed.add(n)

    async def _read_unit(self, bus: MessageBus, name: str, path: str | None) -> Raw | None:
        try:
            if path is None:
                (path,) = await self._call(bus, DEST, ROOT, MANAGER, "GetUnit", "s", [name])
                self._paths[path] = name
            props: Raw = {}
            for iface, wanted in (("org.freedesktop.systemd1.Unit", UNIT_PROPS),
                                  (IFACE[unit_type(name)], TYPE_PROPS)):
                (got,) = await self._call(bus, DEST, path, "org.freedesktop.DBus.Properties",
                                          "GetAll", "s", [iface])
                self.unit_reads += 1
                props.update({k: got[k].value for k in wanted if k in got})
            return props
        except LookupError:  # unloaded between the signal and the read: gone
            return None
