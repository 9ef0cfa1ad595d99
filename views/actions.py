"""Acting on processes over HTTP: signals and renice, off unless SERVER_MONITOR_ACTIONS enables them.

    POST /api/processes/912/signal   {"signal": "TERM", "started": 1795692801.37}
    POST /api/processes/912/renice   {"nice": 10, "started": 1795692801.37}
    GET  /fragments/processes/912/actions?started=...&signal=TERM   the confirmation (htmx)
    POST /processes/912/signal       the confirmation's form: started, signal, token

    $ curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
           -d '{"signal": "TERM", "started": 1795692801.37}' 127.0.0.1:8000/api/processes/912/signal
    {"pid":912,"result":"gone","message":"SIGTERM sent to sleep (912): it has exited",...}

Only routes of enabled kinds exist (``build_router``): a kind that is off answers 404. Who may act:
a full-scope credential presented with the request (views/auth.py refuses anonymous requests on
these paths whatever ``anonymous`` says), same-origin (views/security.py), and a per-form token
(views/actions_audit.py: an HMAC of the credential and the target) unless the credential came as a
Bearer header, which no browser attaches by itself. The rules are in monitor/actions.py; every
attempt is audited (views/actions_audit.py).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from monitor import actions
from monitor.actions import ActionError, Outcome, SignalName, Target

from .actions_audit import Who, record, token_ok, who_of
from .api import ErrorMessage
from .deps import events_of
from .process_table import PID_MAX

PidPath = Annotated[int, Path(ge=1, le=PID_MAX, description="process id")]
StartedField = Field(ge=0, le=1e11, allow_inf_nan=False, description=(
    "the process's create_time (`started` in /api/processes): a PID now held by another process "
    "answers 409"))
TokenField = Field(None, max_length=128, description=(
    "the per-form token from the confirmation; required unless the credential is an "
    "`Authorization: Bearer` header"))
BODY_MAX = 4096


class SignalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signal: SignalName
    started: float = StartedField
    token: str | None = TokenField


class ReniceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nice: int = Field(ge=actions.NICE_MIN, le=actions.NICE_MAX,
                      description="the new nice value; lowering it needs SERVER_MONITOR_RENICE_LOWER")
    started: float = StartedField
    token: str | None = TokenField


class ActionResult(BaseModel):
    pid: int
    started: float
    name: str
    action: str = Field(description='"signal TERM", "renice 10"')
    result: str = Field(description="gone (exited), running, or stopped, after a short wait")
    message: str
    nice: int | None = Field(None, description="the nice value after a renice")
    event: str = Field(description="the audit record's id in /api/events")


ERRORS = {
    401: {"model": ErrorMessage, "description": "no credential presented (anonymous never acts)"},
    403: {"model": ErrorMessage, "description": "not the full scope, cross-site, a missing or wrong "
          "form token, a refused target (PID 1, kernel thread, the console), lowering nice while "
          "that is off, or the kernel's permission denied"},
    404: {"model": ErrorMessage, "description": "no such process (or this kind of action is off)"},
    409: {"model": ErrorMessage, "description": "the PID now belongs to another process than `started`"},
}


def target_key(pid: int, started: float) -> str:
    return f"{pid}@{started:.2f}"


def attempt(request: Request, kind: str, action: str, pid: int, started: float,
            token: str | None, do: Callable[[Target], Outcome], form: bool) -> tuple[Outcome, str, str]:
    """Check who asks, hold the target, act, audit. HTTPException for every refusal."""
    who, settings = who_of(request), request.app.state.settings
    state, events = request.scope.setdefault("state", {}), events_of(request)

    def refuse(status: int, result: str, message: str, name: str = "") -> HTTPException:
        record(state, events, who, action, result, message, pid=pid, started=started, name=name)
        return HTTPException(status, message)

    if not who.presented_full:
        raise refuse(403, "refused", "acting needs a presented full-access credential")
    if (form or who.via != "bearer") and not token_ok(who, kind, target_key(pid, started), token):
        raise refuse(403, "refused", "missing or wrong form token: open the confirmation again")
    try:
        target = actions.open_target(pid, started, mask=settings.mask_secrets)
    except ActionError as exc:
        raise refuse(exc.status, exc.result, exc.message, exc.name) from None
    with target:
        try:
            outcome = do(target)
        except ActionError as exc:
            raise refuse(exc.status, exc.result, exc.message, target.name) from None
    ev = record(state, events, who, action, outcome.result, outcome.message, pid=pid,
                started=target.started, name=target.name)
    if outcome.result == "denied":
        raise HTTPException(403, outcome.message)
    return outcome, ev, target.name


def do_signal(name: str) -> Callable[[Target], Outcome]:
    return lambda t: actions.send(t, name)


def do_renice(request: Request, value: int) -> Callable[[Target], Outcome]:
    allow = request.app.state.settings.renice_lower
    return lambda t: actions.renice(t, value, allow_lower=allow)


def _json(outcome: Outcome, pid: int, started: float, name: str, action: str, ev: str) -> Response:
    body = ActionResult(pid=pid, started=started, name=name, action=action, result=outcome.result,
                        message=outcome.message, nice=outcome.nice, event=ev)
    return Response(body.model_dump_json(), media_type="application/json")


def build_router(kinds: list[str]) -> APIRouter:
    """The routes of the enabled kinds only (views/__init__.py includes it)."""
    router = APIRouter()
    if "unit" in kinds:
        from .actions_units import build_router as unit_router
        router.include_router(unit_router())
    if not {"signal", "renice"} & set(kinds):
        return router
    api = APIRouter(prefix="/api", tags=["actions"])
    from .actions_pages import build_page_router  # the page's buttons, confirmation and forms

    if "signal" in kinds:
        @api.post("/processes/{pid}/signal", response_model=ActionResult, responses=ERRORS,
                  summary="Send TERM, INT, HUP, KILL, STOP or CONT to a process")
        def api_signal(request: Request, pid: PidPath, body: SignalRequest):
            """Only with a presented full-access credential (never anonymous, never the display
            token), same-origin; `token` (the confirmation's) unless the credential is a Bearer
            header. `started` must be the process's start time (409 otherwise: nothing is sent).
            Refused for PID 1, kernel threads, the console, its parent and its helpers. The answer
            says what became of the process after up to 1 s: gone, running or stopped; the
            kernel's refusal is a 403 "permission denied". Every attempt is in /api/events."""
            action = f"signal {body.signal}"
            outcome, ev, name = attempt(request, "signal", action, pid, body.started, body.token,
                                        do_signal(body.signal), form=False)
            return _json(outcome, pid, body.started, name, action, ev)
    if "renice" in kinds:
        @api.post("/processes/{pid}/renice", response_model=ActionResult, responses=ERRORS,
                  summary="Set a process's nice value (0..19; lower only with renice_lower)")
        def api_renice(request: Request, pid: PidPath, body: ReniceRequest):
            """Sets every thread of the process to `nice` (0..19). Lowering the current value is
            refused (403) unless SERVER_MONITOR_RENICE_LOWER is on, and needs CAP_SYS_NICE. Who may
            call it, `started` and `token`: as for /signal. Every attempt is in /api/events."""
            action = f"renice {body.nice}"
            outcome, ev, name = attempt(request, "renice", action, pid, body.started, body.token,
                                        do_renice(request, body.nice), form=False)
            return _json(outcome, pid, body.started, name, action, ev)
    router.include_router(api)
    router.include_router(build_page_router(kinds))
    return router


__all__ = ["Who", "attempt", "build_router"]
