"""Reading systemd's units over D-Bus: the calls behind monitor/services_bus.py's watcher.

``UnitReader`` lists units (ListUnits) and reads the few properties kept per unit with
Properties.Get: GetAll answers 100-200 properties per interface, and parsing those dominated the
first listing (bench/services.py). Every call has a timeout; a unit that went away between a
signal and the read is None.
"""
from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported with the first bus session (monitor/services_bus.py)
    from dbus_fast.aio import MessageBus

DEST, ROOT = "org.freedesktop.systemd1", "/org/freedesktop/systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"
TYPES = ("service", "socket", "timer", "mount", "scope")
IFACE = {t: f"org.freedesktop.systemd1.{t.capitalize()}" for t in TYPES}
CALL_TIMEOUT = 10.0
BATCH = 64  # units read at once
# Calls in flight on our connection: dbus-daemon's max_replies_per_connection defaults to 128
# (system.conf) and answers LimitsExceeded past it.
IN_FLIGHT = 32
# Errors that mean "this unit or property is not there (any more)"; any other fails the session.
GONE = {"org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.DBus.Error.UnknownObject",
        "org.freedesktop.DBus.Error.UnknownProperty", "org.freedesktop.DBus.Error.UnknownInterface",
        "org.freedesktop.DBus.Error.InvalidArgs", "org.freedesktop.systemd1.LoadFailed"}
MAX_UNITS = 20_000  # bound what one host can make us hold

# The properties kept per unit (besides Id), by interface.
UNIT_PROPS = ("Description", "LoadState", "ActiveState", "SubState", "StateChangeTimestamp")
TYPE_PROPS = {"service": ("MainPID", "NRestarts", "Result", "ControlGroup"),
              "socket": ("Result", "ControlGroup"), "mount": ("Result", "ControlGroup"),
              "scope": ("Result", "ControlGroup"),
              "timer": ("Result", "NextElapseUSecRealtime", "LastTriggerUSec")}

Raw = dict[str, Any]


def unit_type(name: str) -> str:
    return name.rsplit(".", 1)[-1] if "." in name else ""


class UnitReader:
    """What monitor/services_bus.py's UnitWatcher holds, filled in from the bus."""

    _lock: threading.Lock
    _calls: asyncio.Semaphore  # at most IN_FLIGHT calls; made on the bus thread's loop
    unlisted: tuple[str, ...] = ()  # unit types systemd refused to list (see _read_all)
    full_reads: int
    unit_reads: int
    _paths: dict[str, str]
    _units: dict[str, Raw]
    _changed: set[str]

    async def _call(self, bus: MessageBus, dest: str, path: str, iface: str, member: str,
                    sig: str = "", body: list | None = None) -> list:
        from dbus_fast import Message, MessageType
        async with self._calls:
            reply = await asyncio.wait_for(bus.call(Message(
                destination=dest, path=path, interface=iface, member=member, signature=sig,
                body=body or [])), CALL_TIMEOUT)
        if reply.message_type == MessageType.ERROR:
            why = f"{member}: {reply.error_name}: {reply.body[0] if reply.body else ''}"[:300]
            raise (LookupError if reply.error_name in GONE else RuntimeError)(why)
        return reply.body

    async def _read_all(self, bus: MessageBus) -> None:
        try:
            (listed,) = await self._call(bus, DEST, ROOT, MANAGER, "ListUnits")
            unlisted: list[str] = []
        except LookupError:
            # systemd refuses the whole list when one unit carries text D-Bus cannot (a mount
            # point that is not UTF-8 in a mount unit's description): list type by type instead
            listed, unlisted = [], []
            for t in TYPES:
                try:
                    listed += (await self._call(bus, DEST, ROOT, MANAGER, "ListUnitsByPatterns",
                                                "asas", [[], [f"*.{t}"]]))[0]
                except LookupError:
                    unlisted.append(t)
        if tuple(unlisted) != self.unlisted:
            with self._lock:
                self.unlisted = tuple(unlisted)
                self._changed.add("")  # not a unit: makes the collector rebuild its model
        self.full_reads += 1
        keep = [u for u in listed if unit_type(u[0]) in TYPES][:MAX_UNITS]
        self._paths = {u[6]: u[0] for u in keep}
        # ListUnits already says (name, description, load, active, sub, ..., path, ...)
        base = {u[0]: {"Id": u[0], "Description": u[1], "LoadState": u[2], "ActiveState": u[3],
                       "SubState": u[4]} for u in keep}
        with self._lock:
            gone = set(self._units) - set(base)
            for n in gone:
                del self._units[n]
            self._changed |= gone
        await self._read_units(bus, list(base), base)

    async def _read_units(self, bus: MessageBus, names: list[str],
                          base: dict[str, Raw] | None = None) -> None:
        by_name = {n: p for p, n in self._paths.items()}
        for i in range(0, len(names), BATCH):
            chunk = names[i:i + BATCH]
            got = await asyncio.gather(*(self._read_unit(bus, n, by_name.get(n), (base or {}).get(n))
                                         for n in chunk))
            with self._lock:
                for n, props in zip(chunk, got):
                    if props is None:
                        self._units.pop(n, None)
                        for p in [p for p, m in self._paths.items() if m == n]:
                            del self._paths[p]
                    else:
                        self._units[n] = props
                    self._changed.add(n)

    async def _read_unit(self, bus: MessageBus, name: str, path: str | None,
                         base: Raw | None) -> Raw | None:
        try:
            if path is None:
                (path,) = await self._call(bus, DEST, ROOT, MANAGER, "GetUnit", "s", [name])
                self._paths[path] = name
            props: Raw = dict(base or {"Id": name})
            wanted = [("org.freedesktop.systemd1.Unit", k) for k in UNIT_PROPS if k not in props]
            wanted += [(IFACE[unit_type(name)], k) for k in TYPE_PROPS[unit_type(name)]]
            got = await asyncio.gather(*(self._call(bus, DEST, path, "org.freedesktop.DBus.Properties",
                                                    "Get", "ss", [i, k]) for i, k in wanted),
                                       return_exceptions=True)
            self.unit_reads += 1
            for (_, k), v in zip(wanted, got):
                if isinstance(v, LookupError):
                    if k == "ActiveState" or base is None and k == "LoadState":
                        return None  # the unit went away between the signal and the read
                    continue
                if isinstance(v, BaseException):
                    raise v
                props[k] = v[0].value
            return props
        except LookupError:  # unloaded between the signal and the read: gone
            return None
