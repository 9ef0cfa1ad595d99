"""Unit actions: POST /api/services/{unit}/{restart|stop|start|reload}, behind the ``unit`` kind.

    $ curl -s -H "Authorization: Bearer $TOKEN" -X POST 127.0.0.1:8000/api/services/nginx.service/restart
    {"detail": "unit actions need the services area's D-Bus call helper ..."}

Who may act is checked as for processes (a presented full credential, the per-form token unless
Bearer), and only units listed in SERVER_MONITOR_ACTION_UNITS. The job itself is not sent yet:
systemd's Manager.RestartUnit & co. are to go through the services area's one bus connection
(monitor/services_bus.py), which has no call helper for other modules yet, so rather than open a
second connection the route answers 501 and says so. Every attempt is audited.
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from .actions_audit import record, token_ok, who_of
from .api import ErrorMessage
from .deps import events_of

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
    501: {"model": ErrorMessage, "description": "unit actions are not carried out yet (they need the "
          "services area's D-Bus call helper); nothing was done"},
}
NOT_YET = ("unit actions need the services area's D-Bus call helper (monitor/services_bus.py "
           "offers none to other modules yet), so no job was sent to systemd; nothing was done")


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["actions"])

    @router.post("/services/{unit}/{verb}", responses=ERRORS, status_code=200,
                 summary="Restart, stop, start or reload a configured systemd unit")
    def unit_action(request: Request, unit: UnitPath, verb: Verb,
                    body: Annotated[UnitRequest | None, Body()] = None):
        who, settings = who_of(request), request.app.state.settings
        state, events = request.scope.setdefault("state", {}), events_of(request)
        action = f"unit {verb}"

        def refuse(status: int, result: str, message: str) -> HTTPException:
            record(state, events, who, action, result, message, unit=unit)
            return HTTPException(status, message)

        if not who.presented_full:
            raise refuse(403, "refused", "acting needs a presented full-access credential")
        if who.via != "bearer" and not token_ok(who, "unit", unit, body.token if body else None):
            raise refuse(403, "refused", "missing or wrong form token")
        if unit not in settings.action_units:
            raise refuse(403, "refused", f"{unit} is not in SERVER_MONITOR_ACTION_UNITS")
        raise refuse(501, "not done", NOT_YET)

    return router
