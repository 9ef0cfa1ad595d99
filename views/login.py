"""Logging in from a browser: a form for the token that sets a cookie, so a wall display stays
logged in without an HTTP Basic prompt, and /logout.

    GET  /login?next=/processes      the form
    POST /login  token=...&next=...  303 to next with Set-Cookie (HttpOnly, SameSite=Strict)
    POST /logout                     303 to /login, the cookie cleared

The cookie is derived from the token (views/credentials.py), never the token itself: it is
worthless once the token is replaced. Wrong tokens are counted per client address with the
same ``Attempts`` as wrong Authorization headers (views/auth.py), then 429 for the minute.
"""
from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .auth import COOKIE
from .credentials import cookie_value
from .deps import AttemptsDep, CredentialsDep
from .templating import templates

router = APIRouter(include_in_schema=False)

BODY_MAX = 4096  # a token and a path; anything longer is not a login
COOKIE_AGE = 400 * 86400  # browsers cap cookie lifetimes at 400 days


def safe_next(target: str | None) -> str:
    """Only a path on this console: never //evil.example or https://evil.example (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dashboard"
    if any(ord(c) < 0x20 for c in target):
        return "/dashboard"
    return target


def _page(request: Request, next_: str, message: str = "", status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, "pages/login.html", {
        "next": safe_next(next_), "message": message}, status_code=status)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request,
               next: Annotated[str | None, Query(max_length=2048)] = None) -> HTMLResponse:
    return _page(request, next or "/dashboard")


@router.post("/login")
async def login(request: Request, attempts: AttemptsDep, creds: CredentialsDep) -> Response:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_MAX:
            return _page(request, "/dashboard", "that is not a login form", 413)
    form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
    token = (form.get("token") or [""])[0].strip()
    next_ = safe_next((form.get("next") or [""])[0])
    peer = request.client.host if request.client else "?"
    wait = attempts.blocked(peer)
    if wait:
        return _page(request, next_, f"Too many wrong tokens from this address; try again in "
                                     f"{wait:.0f} s.", 429)
    secret = token.encode("utf-8", "replace")
    role = creds.role_of(secret) if token else None
    if role not in ("full", "display"):
        attempts.failed(peer)
        return _page(request, next_, "That token is not right.", 401)
    response = RedirectResponse(next_, status_code=303)
    response.set_cookie(COOKIE, cookie_value(secret, role), max_age=COOKIE_AGE, path="/",
                        httponly=True, samesite="strict", secure=_https(request))
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=_https(request))
    return response


def _https(request: Request) -> bool:
    # Behind the shipped nginx config the console speaks HTTP to nginx; nginx says the scheme.
    return (request.url.scheme == "https"
            or request.headers.get("x-forwarded-proto", "").lower() == "https")
