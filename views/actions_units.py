"""Unit actions: POST /api/services/{unit}/{restart|stop|start|reload}, behind the ``unit`` kind.

    $ curl -s -H "Authorization: Bearer $TOKEN" -X POST 127.0.0.1:8000/api/services/nginx.service/restart
    {"unit": "nginx.service", "verb": "restart", "result": "done"}

Who may act is checked as for processes (a presented full credential, the per-form token unless
Bearer), and only units listed in SERVER_MONITOR_ACTION_UNITS. The job goes to systemd's
Manager.RestartUnit & co. (mode "replace") through the services area's one bus connection
(``UnitWatcher.job`` in monitor/services_bus.py), which waits for the job's JobRemoved and
answers its result. When the console is not root, polkit decides (deploy/polkit/); a refusal is
a 403 that says so. Every attempt is audited.
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Request
from starlette.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from .actions_audit import form_token, record, token_ok, who_of
from .api import ErrorMessage
from .deps import events_of
from .templating import templates

Verb = Literal["restart", "stop", "start", "reload"]
# A systemd unit name (systemd.unit(5)): no path, no glob, no leading "-", at most 256 characters.
UNIT_NAME = r"^[A-Za-z0-9:_.\\@][A-Za-z0-9:_.\\@-]{0,200}\.(service|socket|timer|mount|target|path|slice|swap|automount|scope)$"
UnitPath = Annotated[str, Path(pattern=UNIT_NAME, max_length=256, description="a systemd unit name")]


class UnitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str | None = Field(None, max_length=128, description=(
        "the per-form token; required unless the credential is an `Authorization: Bearer` header"))


ERRORS = {
    401: {"model": ErrorMessage, "description": "no credential presented (anonymous never acts)"},
    403: {"model": ErrorMessage, "description": "not the full scope, cross-site, a missing or wrong "
          "form token, or a unit not in SERVER_MONITOR_ACTION_UNITS"},
    404: {"model": ErrorMessage, "description": "systemd has no such unit"},
    503: {"model": ErrorMessage, "description": "no systemd bus (the services area is not connected)"},
    504: {"model": ErrorMessage, "description": "the job did not finish in time (it may still run)"},
}


class UnitResult(BaseModel):
    unit: str
    verb: str
    result: str = Field(description="systemd's job result: done, failed, canceled, timeout, "
                                    "dependency or skipped")


VERBS = ("restart", "reload", "stop", "start")


class Refused(Exception):
    def __init__(self, status: int, result: str, message: str) -> None:
        super().__init__(message)
        self.status, self.result, self.message = status, result, message


def act(request: Request, unit: str, verb: str, token: str | None) -> str:
    """Check who asks, send the job, audit the attempt: systemd's job result, or Refused."""
    who, settings = who_of(request), request.app.state.settings
    state, events = request.scope.setdefault("state", {}), events_of(request)
    action = f"unit {verb}"

    def refuse(status: int, result: str, message: str) -> Refused:
        record(state, events, who, action, result, message, unit=unit)
        return Refused(status, result, message)

    if not who.presented_full:
        raise refuse(403, "refused", "acting needs a presented full-access credential")
    if who.via != "bearer" and not token_ok(who, "unit", unit, token):
        raise refuse(403, "refused", "missing or wrong form token")
    if unit not in settings.action_units:
        raise refuse(403, "refused", f"{unit} is not in SERVER_MONITOR_ACTION_UNITS")
    jobs = getattr(request.app.state, "unit_jobs", None)
    if jobs is None:
        raise refuse(503, "not done", "no services area: systemd's bus is not watched here")
    try:
        result = jobs.job(verb, unit)
    except PermissionError as exc:
        raise refuse(403, "permission denied", f"systemd refused (polkit): {exc}") from None
    except LookupError as exc:
        raise refuse(404, "not done", f"systemd: {exc}") from None
    except TimeoutError as exc:
        raise refuse(504, "timeout", str(exc)) from None
    except (ConnectionError, RuntimeError) as exc:
        raise refuse(503, "not done", f"systemd's bus: {exc}") from None
    record(state, events, who, action, result, f"{unit} {verb}: job {result}", unit=unit)
    return result


def unit_offer(request: Request, unit: str) -> dict | None:
    """The unit page's buttons: for a presented full credential, the ``unit`` kind on and the
    unit listed; each form carries its per-form token (a cross-site page cannot make one)."""
    settings, who = request.app.state.settings, who_of(request)
    if "unit" not in settings.actions or unit not in settings.action_units or not who.presented_full:
        return None
    return {"unit": unit, "verbs": VERBS, "token": form_token(who.proof, "unit", unit)}


def build_router() -> APIRouter:
    router = APIRouter()

    @router.post("/api/services/{unit}/{verb}", responses=ERRORS, status_code=200, response_model=UnitResult,
                 summary="Restart, stop, start or reload a configured systemd unit", tags=["actions"])
    def unit_action(request: Request, unit: UnitPath, verb: Verb,
                    body: Annotated[UnitRequest | None, Body()] = None):
        try:
            result = act(request, unit, verb, body.token if body else None)
        except Refused as exc:
            raise HTTPException(exc.status, exc.message) from None
        return UnitResult(unit=unit, verb=verb, result=result)

    @router.post("/services/{unit}/{verb}", response_class=HTMLResponse, include_in_schema=False)
    async def unit_page_action(request: Request, unit: UnitPath, verb: Verb):
        """The unit page's form: the result in place (a 200 for htmx, its status without it)."""
        from .actions_pages import _form  # the bounded form reader the process forms use
        token = (await _form(request)).get("token")
        try:
            result, status = await run_in_threadpool(act, request, unit, verb, token), 200
            message = f"systemd's {verb} job for {unit} ended: {result}"
        except Refused as exc:
            result, message, status = exc.result, exc.message, exc.status
        status = 200 if request.headers.get("hx-request") else status
        return templates.TemplateResponse(request, "cards/action_unit.html", {
            "offer": unit_offer(request, unit), "result": result, "message": message}, status_code=status)

    return router
