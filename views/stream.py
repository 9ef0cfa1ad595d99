"""SSE: one connection per page; each card is a named event (``event: cpu``).

Each tick's events are encoded to bytes once (memoised on the snapshot) and the same bytes are
written to every client. A client waits on the latest snapshot only, so one that reads slowly
skips ticks instead of queueing them: memory per client stays flat.

``/stream?every=N`` (a page's ``?refresh=``) sends every Nth snapshot: the same memoised bytes,
only fewer of them, so a slow-refreshing wall screen costs less, never more. ``view=wall`` (the
wall page's stream) renders the display scope whoever is signed in: nothing to click on a wall.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Query, Request
from markupsafe import Markup
from sse_starlette import EventSourceResponse
from sse_starlette.sse import SendTimeoutError
from starlette.types import Receive, Scope, Send

from monitor.sampler import Snapshot, Store

from .cards import DISPLAY, render_card, render_tick, scope_of
from .deps import AreasDep, JudgeDep, SettingsDep, StoreDep
from .health import render_health

router = APIRouter(tags=["stream"])
log = logging.getLogger("server_monitor.stream")

# A client whose socket does not drain within this many seconds is dropped (it reconnects).
SEND_TIMEOUT = 10.0
# Sent once per connection: the browser retries this soon after the console restarts.
RETRY = b"retry: 2000\n\n"
EVERY_MAX = 3600
PING = 15.0  # seconds: the longest a stream stays silent (proxies close idle connections)
SHUTDOWN_GRACE = 1.5  # seconds; must stay below main.py's timeout_graceful_shutdown
# The kernel's send buffer for a stream's socket. Left to autotuning it grows to megabytes on
# loopback, so a client that stopped reading would take minutes to fill it and reach SEND_TIMEOUT.
STREAM_SNDBUF = 64 * 1024
# main.py's Console puts the connection's transport in the scope under this key (uvicorn only).
TRANSPORT = "server_monitor.transport"


class Stopping:
    """Set when main.py's server begins to stop (``ConsoleServer.handle_exit``, from the signal
    handler through the loop), so a stream learns of it without polling. sse-starlette's own
    watcher looks twice a second, from the first stream until the process ends, whether anyone
    still watches or not (issue 19: two wake-ups a second of a console that should sleep)."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def arm(self) -> None:
        """On the server's loop, before it serves (ConsoleServer.main_loop)."""
        self._event, self._loop = asyncio.Event(), asyncio.get_running_loop()

    def set(self) -> None:
        """From anywhere (a signal handler): the loop sets its own event."""
        if self._loop is not None and self._event is not None:
            self._loop.call_soon_threadsafe(self._event.set)

    def event(self) -> asyncio.Event | None:
        """This loop's event; None where main.py's server is not the one running (``uvicorn
        main:app``, a test client): there the library's watcher is the only one who knows."""
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._event if self._loop is here else None


stopping = Stopping()


class StreamResponse(EventSourceResponse):
    """An SSE response that really lets go of a client that stopped reading, and learns that
    the server stops from ``stopping`` instead of sse-starlette's polling watcher.

    sse-starlette raises SendTimeoutError when a send waits longer than SEND_TIMEOUT; uvicorn
    then calls ``transport.close()``, which waits for the unsent bytes to drain, and they never
    do: the socket stayed open for good (19 of 20 such clients, 60 s later). Aborting the
    transport closes it at once.
    """

    _transport = None  # the connection's (main.py's Console puts it in the scope)

    async def _send_with_timeout(self, send: Send, message) -> None:
        """sse-starlette's send under a timeout, without the timeout when the socket has taken
        every byte so far: uvicorn then writes and returns without waiting (it waits only while
        the transport is paused, above its high-water mark), and the anyio cancel scope around
        it was a fifth of each client's cost a tick (issue 19: 20 displays). A client that stops
        reading leaves bytes unsent, and gets the timeout again."""
        transport = self._transport
        if transport is not None and not transport.is_closing() and not transport.get_write_buffer_size():
            await send(message)
        else:
            await super()._send_with_timeout(send, message)

    @staticmethod
    async def _listen_for_exit_signal() -> None:  # sse-starlette's, awaited until shutdown
        event = stopping.event()
        if event is None:
            await EventSourceResponse._listen_for_exit_signal()
        else:
            await event.wait()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = self._transport = scope.get(TRANSPORT)
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SNDBUF)
            except OSError:  # not a TCP socket (a unix socket behind a proxy): leave it
                pass
        try:
            await super().__call__(scope, receive, send)
        except SendTimeoutError:
            client = scope.get("client") or ("?", 0)
            log.info("dropped %s:%s from %s: it stopped reading", client[0], client[1], scope["path"])
            if transport is not None:
                transport.abort()
                await asyncio.sleep(0)  # let uvicorn see the connection lost before we return
            else:
                raise


class Parts(tuple):
    """One tick's events, (event name, SSE bytes) each, and what was joined of them for clients.

    Clients that have seen the same cards are sent the same subset: they get one bytes object,
    made once, instead of a 25 KiB copy each (200 clients: 5 MiB at every tick, issue 19)."""

    def joined(self, names: tuple[str, ...]) -> bytes:
        joins = self.__dict__.setdefault("joins", {})  # at most one per client: bounded
        try:
            return joins[names]
        except KeyError:
            chosen = set(names)
            body = joins[names] = b"".join(data for name, data in self if name in chosen)
            return body


def sse_event(event: str, data: str, id: str | None = None) -> bytes:
    """What sse-starlette's ``ServerSentEvent(data, event=, id=).encode()`` makes, byte for byte
    (tests/test_stream.py compares them), with ``str.replace`` where it splits ``data`` into
    ``data:`` lines one regex match at a time: 0.014 ms instead of 0.19 for an 8 KB card, and a
    tick encodes every card (issue 19)."""
    if "\r" in data:  # any of CRLF, CR, LF ends a line, as in the library
        data = data.replace("\r\n", "\n").replace("\r", "\n")
    head = "" if id is None else "id: " + _one_line(id) + "\r\n"
    return (head + "event: " + _one_line(event) + "\r\ndata: " + data.replace("\n", "\r\ndata: ")
            + "\r\n\r\n").encode("utf-8")


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", "")


def event_parts(store: Store, snap: Snapshot, areas: Sequence[str],
                health: Callable[[Snapshot, str], str] | None = None,
                scope: str = DISPLAY) -> Parts:
    """One tick's events, (event name, SSE bytes) each, made once per snapshot and scope.
    ``health`` renders the health banner (views/health.py), sent as ``event: health``."""
    def make() -> Parts:
        events = [(a, sse_event(a, str(render_card(store, snap, a, scope)))) for a in areas]
        if health is not None:
            events.append(("health", sse_event("health", str(health(snap, scope)))))
        events.append(("tick", sse_event("tick", str(render_tick(snap)), id=str(snap.seq))))
        return Parts(events)
    return snap.memo(f"sse:{scope}:" + ",".join(areas) + (",health" if health else ""), make)


class Unsent:
    """What one client has not seen yet: a card whose HTML is what this client last received is
    left out (the page already shows it: the processes card between its 2 s reads, a quiet
    disk), so neither the socket nor the browser's morph does it again. The tick always goes."""

    def __init__(self) -> None:
        self.sent: dict[str, bytes] = {}

    def __call__(self, parts: Parts) -> bytes:
        names = []
        for name, data in parts:
            if name == "tick" or self.sent.get(name) != data:
                self.sent[name] = data
                names.append(name)
        return parts.joined(tuple(names))


def health_banner(event_log) -> Callable[[Snapshot, str], Markup]:
    """What ``event_parts`` sends as ``event: health``: the banner with ``event_log``'s events."""
    return lambda snap, scope: render_health(snap, event_log, scope)


async def _events(store: Store, areas: Sequence[str], scope: str,
                  health: Callable[[Snapshot, str], str] | None = None,
                  every: int = 1, shutdown: anyio.Event | None = None) -> AsyncIterator[bytes]:
    yield RETRY
    seq = -1
    unsent = Unsent()
    first = store.seen()
    if first is not None:  # a new or reconnecting page gets the current state at once
        seq = first.seq
        yield unsent(event_parts(store, first, areas, health, scope))
    while True:
        snap = await store.wait_newer(seq + every - 1)  # the next snapshot at least N newer
        if shutdown is not None and shutdown.is_set():
            return  # the server is stopping: end the response cleanly instead of being cancelled
        seq = snap.seq
        store.seen()  # someone is looking: the sampler keeps every area at its own pace
        yield unsent(event_parts(store, snap, areas, health, scope))


@router.get("/stream", summary="Live cards as server-sent events (the dashboard's one connection)")
async def stream(request: Request, store: StoreDep, areas: AreasDep, judge: JudgeDep,
                 settings: SettingsDep,
                 every: Annotated[int, Query(ge=1, le=EVERY_MAX,
                                             description="send every Nth sample (1: every tick)")] = 1,
                 view: Annotated[Literal["wall"] | None, Query(
                     description="wall: render as /wall does, the display scope whoever asks "
                                 "(no links, no command lines)")] = None,
                 ) -> EventSourceResponse:
    # On SIGTERM sse-starlette sets `shutdown`; the generator sees it at the next tick and ends
    # the response properly within the grace period (below uvicorn's 2 s graceful timeout).
    # A stream still waiting after it is cancelled, as before.
    shutdown = anyio.Event()
    health = health_banner(judge.events) if judge is not None else None
    scope = DISPLAY if view == "wall" else scope_of(request)  # a narrower scope only, never wider
    events = _events(store, areas, scope, health, every, shutdown)
    # A stream that sends a tick at least every PING seconds needs no keep-alive comment: one
    # task fewer per connection (five before), and its memory, with 200 displays (issue 19).
    ping = 0 if every * settings.tick < PING else PING
    return StreamResponse(events, send_timeout=SEND_TIMEOUT, ping=ping,
                          shutdown_event=shutdown, shutdown_grace_period=SHUTDOWN_GRACE)
