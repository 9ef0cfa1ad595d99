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
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from monitor import actions
from monitor.actions import ActionError, Outcome, SignalName, Target

from .actions_audit import Who, form_token, record, token_ok, who_of
from .api import ErrorMessage
from .deps import events_of
from .process_table import PID_MAX
from .templating import templates

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


# -- the page: buttons, confirmation, result ---------------------------------------------------

class Offer:
    """What templates see as ``actions``: the kinds this viewer may use (none unless a presented
    full-scope credential), and the audit records of one process (newest first)."""
    signals = tuple(actions.SIGNALS)

    def __init__(self, request: Request) -> None:
        settings = getattr(request.app.state, "settings", None)
        enabled = [k for k in getattr(settings, "actions", []) if k in ("signal", "renice")]
        self.kinds = enabled if who_of(request).presented_full else []
        self.lower = bool(settings and settings.renice_lower and actions.may_lower())
        self._request = request

    def records(self, pid: int, started: float | None = None, limit: int = 5) -> list:
        events = events_of(self._request)
        if events is None or not self.kinds:
            return []
        found = [e for e in events.recent(events.keep) if e.audit is not None and e.audit.pid == pid
                 and (started is None or e.audit.started is None
                      or abs(e.audit.started - started) <= 0.05)]
        return found[:limit]


def action_context(request: Request) -> dict:
    return {"actions": Offer(request)}


templates.context_processors.append(action_context)


def _fragment(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    # htmx swaps only 2xx answers: a refusal shown in place is a 200 for htmx, its real status
    # for a browser without JavaScript (the form's plain POST).
    status = 200 if request.headers.get("hx-request") else status
    return templates.TemplateResponse(request, name, context, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_MAX:
            raise HTTPException(413, "that is not an action form")
    form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=32)
    return {k: v[0] for k, v in form.items()}


def build_router(kinds: list[str]) -> APIRouter:
    """The routes of the enabled kinds only (views/__init__.py includes it)."""
    router = APIRouter()
    if "unit" in kinds:
        from .actions_units import build_router as unit_router
        router.include_router(unit_router())
    if not {"signal", "renice"} & set(kinds):
        return router
    api = APIRouter(prefix="/api", tags=["actions"])
    page = APIRouter(include_in_schema=False)

    @page.get("/fragments/processes/{pid}/actions", response_class=HTMLResponse)
    def confirm(request: Request, pid: PidPath,
                started: Annotated[float, Query(ge=0, le=1e11, allow_inf_nan=False)],
                signal: SignalName | None = None,
                nice: Annotated[int | None, Query(ge=actions.NICE_MIN, le=actions.NICE_MAX)] = None):
        """The buttons (no signal or nice given), or the confirmation naming the process."""
        offer, who = Offer(request), who_of(request)
        kind = "signal" if signal else "renice" if nice is not None else None
        if not offer.kinds or (kind and kind not in offer.kinds):
            raise HTTPException(404 if who.presented_full else 403,
                                "this action is not enabled" if who.presented_full
                                else "acting needs a presented full-access credential")
        ctx = {"pid": pid, "started": started, "offer": offer}
        if kind is None:
            return _fragment(request, "cards/action_buttons.html", ctx)
        try:
            with actions.open_target(pid, started, mask=request.app.state.settings.mask_secrets) as t:
                pass
        except ActionError as exc:
            return _fragment(request, "cards/action_result.html",
                             {**ctx, "result": exc.result, "message": exc.message}, exc.status)
        token = form_token(who.proof, kind, target_key(pid, started))
        return _fragment(request, "cards/action_confirm.html", {
            **ctx, "t": t, "kind": kind, "signal": signal, "nice": nice, "token": token})

    def page_post(kind: str):
        async def post(request: Request, pid: PidPath):
            form = await _form(request)
            try:
                started = float(form.get("started", ""))
                body = (SignalRequest if kind == "signal" else ReniceRequest).model_validate(
                    {k: form[k] for k in ("started", "token", kind if kind == "signal" else "nice")
                     if k in form} | {"started": started})
            except (ValueError, ValidationError) as exc:
                raise HTTPException(422, f"not a valid {kind} form: {str(exc).splitlines()[0]}") from None
            return await run_in_threadpool(_page_act, request, kind, pid, body)
        post.__name__ = f"page_{kind}"
        return post

    if "signal" in kinds:
        @api.post("/processes/{pid}/signal", response_model=ActionResult, responses=ERRORS,
                  summary="Send TERM, INT, HUP, KILL, STOP or CONT to a process")
        def api_signal(request: Request, pid: PidPath, body: SignalRequest):
            action = f"signal {body.signal}"
            outcome, ev, name = attempt(request, "signal", action, pid, body.started, body.token,
                                        do_signal(body.signal), form=False)
            return _json(outcome, pid, body.started, name, action, ev)
        page.post("/processes/{pid}/signal", response_class=HTMLResponse)(page_post("signal"))
    if "renice" in kinds:
        @api.post("/processes/{pid}/renice", response_model=ActionResult, responses=ERRORS,
                  summary="Set a process's nice value (0..19; lower only with renice_lower)")
        def api_renice(request: Request, pid: PidPath, body: ReniceRequest):
            action = f"renice {body.nice}"
            outcome, ev, name = attempt(request, "renice", action, pid, body.started, body.token,
                                        do_renice(request, body.nice), form=False)
            return _json(outcome, pid, body.started, name, action, ev)
        page.post("/processes/{pid}/renice", response_class=HTMLResponse)(page_post("renice"))
    router.include_router(api)
    router.include_router(page)
    return router


def _page_act(request: Request, kind: str, pid: int, body) -> HTMLResponse:
    action = f"signal {body.signal}" if kind == "signal" else f"renice {body.nice}"
    do = do_signal(body.signal) if kind == "signal" else do_renice(request, body.nice)
    ctx = {"pid": pid, "started": body.started, "offer": Offer(request)}
    try:
        outcome, _ev, _name = attempt(request, kind, action, pid, body.started, body.token, do, form=True)
    except HTTPException as exc:
        result = "denied" if "permission denied" in str(exc.detail) else "refused"
        return _fragment(request, "cards/action_result.html",
                         {**ctx, "result": result, "message": exc.detail}, exc.status_code)
    return _fragment(request, "cards/action_result.html",
                     {**ctx, "result": outcome.result, "message": outcome.message})


__all__ = ["Offer", "Who", "build_router"]
