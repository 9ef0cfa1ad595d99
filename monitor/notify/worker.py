"""Blocking work off the event loop: each attempt in a new daemon thread, and its record.

A daemon thread per attempt, not a pool: a send stuck where no timeout reaches (a name lookup)
holds neither a worker nor the process's exit; the dispatcher starts no other for the same
channel while it lives, so there are at most as many as channels (and one for the heartbeat).
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass


@dataclass
class Attempt:
    """One delivery attempt, as /api/notifications lists it."""
    at: float
    channel: str
    subject: str
    attempt: int  # 1 = the first try
    ok: bool
    error: str | None
    seconds: float
    test: bool = False


def in_thread(fn, *args) -> tuple[asyncio.Future, threading.Thread]:
    """``fn(*args)`` in a new daemon thread (a hung send cannot hold a worker pool or the exit);
    the caller keeps the thread to start no other while it lives."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def run() -> None:
        try:
            result, exc = fn(*args), None
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
            result, exc = None, e

        def settle() -> None:
            if not fut.done():
                fut.set_exception(exc) if exc is not None else fut.set_result(result)
        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop closed meanwhile (shutdown): nobody waits any more
            pass

    thread = threading.Thread(target=run, name="notify-send", daemon=True)
    thread.start()
    return fut, thread
