"""Who acts, the per-form token, and the audit trail of every attempt (refused ones too).

An attempt is recorded once: by views/actions.py when it reached the action (done, refused by a
rule, a wrong token, a reused PID), else by ``ActionAudit`` when something before it answered
(the CSRF guard, access control, a kind that is off: no route). Each record is an event in
/api/events (``EventLog.audit``, check ``action_<kind>``, area ``actions``) and a line in the
console's log. Requests nobody authenticated as full scope are recorded at most REFUSED_PER_MINUTE
times a minute, so a flood cannot push the real records out of the kept events.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections import deque
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.events import Audit
from monitor.text import clean

from .scopes import acts

log = logging.getLogger("server_monitor.actions")

REFUSED_PER_MINUTE = 30
_PROCESS = re.compile(r"^(?:/api)?/processes/(\d+)/(signal|renice)$")
_UNIT = re.compile(r"^(?:/api)?/services/([^/]+)/(restart|stop|start|reload)$")


@dataclass(frozen=True)
class Who:
    scope: str  # full, display, metrics, or "none" (no one authenticated)
    via: str  # bearer, basic, cookie, none
    peer: str
    proof: bytes | None  # SHA-256 of the presented secret or cookie

    @property
    def presented_full(self) -> bool:
        return self.scope == "full" and self.via != "none" and self.proof is not None


def peer_of(scope: Scope) -> str:
    """The client address, with what a reverse proxy says it forwarded for (cleaned, capped)."""
    peer = (scope.get("client") or ("?",))[0]
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for") or headers.get(b"x-real-ip")
    if forwarded:
        peer += f" (for {clean(forwarded.decode('latin-1'))[:100]})"
    return peer


def who_of(request: Request) -> Who:
    state = request.scope.get("state") or {}
    return Who(scope=state.get("role") or "none", via=state.get("via") or "none",
               peer=peer_of(request.scope), proof=state.get("proof"))


def form_token(proof: bytes, kind: str, target: str) -> str:
    """The per-form token: an HMAC of the session credential and the target, so a page on
    another site (which knows neither) cannot make a form the console accepts."""
    return hmac.new(proof, f"server-monitor action {kind} {target}".encode(), hashlib.sha256).hexdigest()


def token_ok(who: Who, kind: str, target: str, given: str | None) -> bool:
    if who.proof is None or not given:
        return False
    return hmac.compare_digest(form_token(who.proof, kind, target), given)


def record(request_state: dict, events, who: Who, action: str, result: str, message: str, *,
           pid: int | None = None, started: float | None = None, name: str = "",
           unit: str = "") -> str:
    """Audit one attempt: an event (when the console keeps events) and a log line. Returns the
    event's id ("" without an event log)."""
    request_state["audited"] = True
    target = unit or " ".join(filter(None, (name, f"(PID {pid}" + (
        f", started {started:.2f})" if started is not None else ")"))))
    line = (f"{action} on {target} by {who.scope} ({who.via}) from {who.peer}: {result}"
            + (f": {message}" if message else ""))
    log.warning("action: %s", line)
    if events is None:
        return ""
    ev = events.audit(Audit(scope=who.scope, via=who.via, peer=who.peer, action=action, pid=pid,
                            started=started, name=name or unit, unit=unit, result=result),
                      reason=line, now=time.time())
    return ev.id


class ActionAudit:
    """Records the action attempts answered before they reached views/actions.py (pure ASGI;
    outside the CSRF guard, so its refusals are seen too)."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._refused: deque[float] = deque()  # when the last refusals were recorded

    def _may_record(self, now: float) -> bool:
        while self._refused and self._refused[0] < now - 60:
            self._refused.popleft()
        if len(self._refused) >= REFUSED_PER_MINUTE:
            return False
        self._refused.append(now)
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in self.SAFE or not acts(scope["path"]):
            await self.app(scope, receive, send)
            return
        status, body = [0], bytearray()

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and len(body) < 4096:
                body.extend(message.get("body", b"")[:4096])
            await send(message)

        await self.app(scope, receive, watch)
        state = scope.get("state") or {}
        if state.get("audited") or status[0] < 400:
            return
        if not self._may_record(time.monotonic()):
            log.warning("action: refused attempt from %s not recorded (over %d a minute)",
                        peer_of(scope), REFUSED_PER_MINUTE)
            return
        self._record(scope, state, status[0], bytes(body))

    @staticmethod
    def _record(scope: Scope, state: dict, status: int, body: bytes) -> None:
        try:
            detail = str(json.loads(body).get("detail", ""))
        except (ValueError, AttributeError):
            detail = ""
        detail = clean(detail)[:300] or f"HTTP {status}"
        path = scope["path"]
        pid = unit = None
        m = _PROCESS.match(path)
        if m:
            pid, action = int(m.group(1)), m.group(2)
        else:
            u = _UNIT.match(path)
            unit, action = (clean(u.group(1))[:200], "unit " + u.group(2)) if u else (None, "action")
        if status == 404 and "no such page" in detail:
            detail = "this action is not enabled (SERVER_MONITOR_ACTIONS)"
        who = Who(scope=state.get("role") or state.get("refused_role") or "none",
                  via=state.get("via") or state.get("refused_via") or "none",
                  peer=peer_of(scope), proof=None)
        app = scope.get("app")
        judge = getattr(getattr(app, "state", None), "judge", None)
        record(state, getattr(judge, "events", None), who, action, "refused",
               f"HTTP {status}: {detail}", pid=pid, unit=unit or "")
