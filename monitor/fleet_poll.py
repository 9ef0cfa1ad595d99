"""Asking Prometheus about the fleet: one bounded client, one poller shared by every /fleet viewer.

``FleetPoller`` polls only while someone watches (``async with poller.watching():``): the first
viewer starts its task, the last one to leave stops it. A poll is five requests (the targets and
``monitor.fleet.QUERIES``, concurrently) at most once per ``interval`` whoever watches; a page
that opens meanwhile gets the latest answer if it is fresher than ``interval``, or waits for
the one poll in flight. httpx is imported by the first poll: a console without prometheus_url
never loads it.

Every request is bounded: TIMEOUT seconds in all (connect, send, the whole answer), at most
MAX_BYTES of answer and MAX_SERIES results. A Prometheus that refuses, times out, answers 5xx,
or answers something that is not its JSON is a ``Fleet`` whose ``error`` says so; it keeps the
last consoles it listed and when Prometheus last answered, so the page can say both.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .fleet import QUERIES, Fleet, Sample, shape
from .text import clean

log = logging.getLogger("server_monitor.fleet")

TIMEOUT = 5.0  # seconds for one request, all of it
MAX_BYTES = 4 * 2**20  # of one answer
MAX_SERIES = 5000  # results (series, or targets) in one answer
ERROR_BODY = 300  # characters of an error answer quoted on the page


class PrometheusError(Exception):
    """Prometheus did not answer usefully; the message is shown on the page."""


class Prometheus:
    """The few calls of Prometheus' HTTP API the fleet needs, each bounded."""

    def __init__(self, url: str, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES,
                 max_series: int = MAX_SERIES) -> None:
        self.url = url.rstrip("/")
        self.timeout, self.max_bytes, self.max_series = timeout, max_bytes, max_series

    async def fleet(self) -> tuple[list[dict], dict[str, list[Sample]]]:
        """(active targets, each of QUERIES' answers) in one round of concurrent requests."""
        import httpx  # here, not at import: a console without prometheus_url never loads it
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            names = list(QUERIES)
            got = await asyncio.gather(
                self._get(client, "/api/v1/targets", {"state": "active"}),
                *(self._get(client, "/api/v1/query", {"query": QUERIES[n]}) for n in names))
        return _targets(got[0], self.max_series), {
            n: _vector(answer, self.max_series) for n, answer in zip(names, got[1:], strict=True)}

    async def _get(self, client, path: str, params: dict[str, str]) -> Any:
        import httpx
        try:
            async with asyncio.timeout(self.timeout):
                async with client.stream("GET", self.url + path, params=params) as r:
                    body = await self._read(r)
        except TimeoutError:
            raise PrometheusError(f"no answer within {self.timeout:g} s") from None
        except httpx.TimeoutException:
            raise PrometheusError(f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as e:
            raise PrometheusError(f"cannot reach it: {_cause(e)}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            if r.status_code != 200:
                raise PrometheusError(f"HTTP {r.status_code}: {body[:ERROR_BODY].decode('utf-8', 'replace')}") from None
            raise PrometheusError(f"not Prometheus' JSON (HTTP {r.status_code}, {len(body)} bytes)") from None
        if r.status_code != 200 or not isinstance(answer, dict) or answer.get("status") != "success":
            why = answer.get("error") if isinstance(answer, dict) else None
            raise PrometheusError(f"HTTP {r.status_code}: {str(why or 'not a success')[:ERROR_BODY]}")
        return answer.get("data")

    async def _read(self, r) -> bytes:
        declared = r.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise PrometheusError(f"answer too large ({int(declared)} bytes, at most {self.max_bytes})")
        chunks, size = [], 0
        async for chunk in r.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise PrometheusError(f"answer too large (over {self.max_bytes} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)


def _cause(exc: BaseException) -> str:
    """The innermost OS error's words ("connection refused"), else httpx's own message."""
    seen, x = 0, exc
    while x is not None and seen < 10:  # httpx wraps httpcore wraps OSError wraps the errno
        if isinstance(x, OSError) and x.errno is not None:
            return os.strerror(x.errno).lower()  # asyncio's own words name the port, not the why
        x, seen = x.__cause__ or x.__context__, seen + 1
    return str(exc) or type(exc).__name__


def _vector(data: Any, max_series: int) -> list[Sample]:
    """An instant query's answer as (labels, value) pairs; anything else is a PrometheusError."""
    if not isinstance(data, dict) or data.get("resultType") != "vector" or not isinstance(data.get("result"), list):
        raise PrometheusError("not an instant vector answer")
    result = data["result"]
    if len(result) > max_series:
        raise PrometheusError(f"too many series ({len(result)}, at most {max_series})")
    out = []
    for item in result:
        try:
            metric, (_, value) = item["metric"], item["value"]
            out.append(({str(k): str(v) for k, v in metric.items()}, float(value)))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise PrometheusError("a malformed sample in the answer") from None
    return out


def _targets(data: Any, max_series: int) -> list[dict]:
    targets = data.get("activeTargets") if isinstance(data, dict) else None
    if not isinstance(targets, list):
        raise PrometheusError("not a targets answer")
    if len(targets) > max_series:
        raise PrometheusError(f"too many targets ({len(targets)}, at most {max_series})")
    return [t for t in targets if isinstance(t, dict)]


Source = Callable[[], Awaitable[tuple[list[dict], dict[str, list[Sample]]]]]


class FleetPoller:
    """One poll per ``interval`` at most, only while watched; every viewer shares its answers."""

    def __init__(self, source: Source, interval: float) -> None:
        self.source, self.interval = source, interval
        self.latest: Fleet | None = None
        self.viewers = 0
        self.polls = 0  # rounds of requests made (tests, /api/console)
        self._polled = -float("inf")  # time.monotonic() of the latest poll
        self._task: asyncio.Task | None = None
        self._inflight: asyncio.Task | None = None
        self._changed: asyncio.Event | None = None  # made on the running loop, replaced per poll

    async def current(self) -> Fleet:
        """The latest answer if fresher than ``interval``, else the next one (one poll for all)."""
        if self.latest is not None and time.monotonic() - self._polled < self.interval:
            return self.latest
        return await self.poll()

    async def poll(self) -> Fleet:
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.create_task(self._poll())
        return await asyncio.shield(self._inflight)

    async def _poll(self) -> Fleet:
        self.polls += 1
        last = self.latest
        seq, now = (last.seq + 1 if last else 1), time.time()
        try:
            targets, answers = await self.source()
            fleet = Fleet(seq, now, shape(targets, answers), answered_at=now)
        except PrometheusError as e:
            fleet = Fleet(seq, now, last.consoles if last else (), error=clean(str(e), 400),
                          answered_at=last.answered_at if last else None)
        except Exception as e:  # a bug here must say so on the page, not end the polling
            log.exception("fleet poll failed")
            fleet = Fleet(seq, now, last.consoles if last else (), error=f"internal error: {type(e).__name__}",
                          answered_at=last.answered_at if last else None)
        self.latest, self._polled = fleet, time.monotonic()
        if self._changed is not None:
            self._changed.set()
        self._changed = asyncio.Event()
        return fleet

    async def wait_newer(self, seq: int, timeout: float) -> Fleet | None:
        """The latest answer once it is newer than ``seq``; None after ``timeout`` seconds."""
        if self.latest is not None and self.latest.seq > seq:
            return self.latest
        if self._changed is None:
            self._changed = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._changed.wait()
        return self.latest if self.latest is not None and self.latest.seq > seq else None

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """While inside, this viewer counts; polling runs while anyone does."""
        self.viewers += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        try:
            yield
        finally:
            self.viewers -= 1
            if self.viewers == 0 and self._task is not None:
                self._task.cancel()
                self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(max(0.0, self._polled + self.interval - time.monotonic()))
            await self.poll()
