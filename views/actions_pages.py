"""The page side of actions: the buttons, the confirmation (a GET: nothing happens before it is
confirmed) and the forms it posts, shown in place by htmx (views/actions.py has the API and the
checks; partials/action_*.html the fragments).

    GET  /fragments/processes/912/actions?started=...               the buttons again (Cancel)
    GET  /fragments/processes/912/actions?started=...&signal=TERM   the confirmation
    POST /processes/912/signal      started, signal, token (the confirmation's form)
    POST /processes/912/renice      started, nice, token

Templates see ``actions`` (``Offer``: the kinds this viewer may use, none unless a presented
full-scope credential) on every page through a context processor, as pages.py's theme.
"""
from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from monitor import actions
from monitor.actions import ActionError, SignalName

from .actions import (
    BODY_MAX,
    PidPath,
    ReniceRequest,
    SignalRequest,
    attempt,
    do_renice,
    do_signal,
    target_key,
)
from .actions_audit import form_token, who_of
from .deps import events_of
from .templating import templates


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


def build_page_router(kinds: list[str]) -> APIRouter:
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

    for kind in ("signal", "renice"):
        if kind in kinds:
            page.post(f"/processes/{{pid}}/{kind}", response_class=HTMLResponse)(page_post(kind))
    return page


def _page_act(request: Request, kind: str, pid: int, body) -> HTMLResponse:
    action = f"signal {body.signal}" if kind == "signal" else f"renice {body.nice}"
    do = do_signal(body.signal) if kind == "signal" else do_renice(request, body.nice)
    ctx = {"pid": pid, "started": body.started, "offer": Offer(request)}
    try:
        outcome, _ev, _name = attempt(request, kind, action, pid, body.started, body.token, do, form=True)
    except HTTPException as exc:
        result = {404: "not found", 409: "pid reused"}.get(exc.status_code) or (
            "denied" if "permission denied" in str(exc.detail) else "refused")
        return _fragment(request, "cards/action_result.html",
                         {**ctx, "result": result, "message": exc.detail}, exc.status_code)
    return _fragment(request, "cards/action_result.html",
                     {**ctx, "result": outcome.result, "message": outcome.message})
