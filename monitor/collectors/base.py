"""What every area collector shares: the model base class, rate maths and the protocol.

A collector module reads the host (psutil, /proc) in ``read()`` and turns the raw reading into
its frozen model in a pure ``shape(raw, prev, dt)``, so unit tests are one call on literal input.
A collector that holds something to release (open files, a helper process) also has ``close()``
(see ``Closeable``): ``Sampler.close()`` calls it on every collector that has one.
"""
from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict


class AreaModel(BaseModel):
    """An area's data in one snapshot: immutable once published, shared by every view."""

    model_config = ConfigDict(frozen=True)


class Collector(Protocol):
    """One area of the host. The sampler calls ``collect`` in a worker thread, never on the loop."""

    name: ClassVar[str]  # the area word: module, Snapshot key, /api/<name>, SSE event, partial
    interval: ClassVar[float]  # seconds between collections; 0 means every tick
    model: ClassVar[type[AreaModel]]  # what collect() returns; the API's schema for the area

    def collect(self, now: float) -> AreaModel: ...

    def series(self, data: Any) -> dict[str, float]:
        """Numbers from this area's data that get a sparkline (history key -> value)."""
        ...

    # Optional, so not declared here (a Protocol member would be required):
    #     unwatched_interval: float: seconds between collections while no view looks
    #         (monitor/sampler.py WATCH_WINDOW); ``interval`` when absent.
    #     def close(self) -> None: release files, threads or processes; called once, at shutdown.
    #     def open(self) -> None: undo close() (a new Sampler over the same collectors calls it).


@runtime_checkable
class Closeable(Protocol):
    """A collector with the optional ``close()``: ``Sampler.close()`` calls it once."""

    def close(self) -> None: ...


def counter_delta(cur: float, prev: float) -> float:
    """Increase of a monotonic counter between two readings.

    A counter that went backwards was reset (reboot of a NIC driver, a wrapped 32-bit counter that
    psutil could not fix): like Prometheus' rate(), count it as having restarted from zero.
    """
    return cur - prev if cur >= prev else cur


def rate(cur: float | None, prev: float | None, dt: float) -> float | None:
    """Per-second rate of a counter, or None when there is no previous reading yet."""
    if cur is None or prev is None or dt <= 0:
        return None
    return counter_delta(cur, prev) / dt
