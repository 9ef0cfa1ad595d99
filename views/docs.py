"""/docs: the OpenAPI explorer (Swagger UI 5.35.0), vendored under static/swagger.

FastAPI's built-in /docs loads Swagger UI from a CDN and starts it with an inline script; both
are refused by our CSP. This page loads the same bundle from /static and starts it from
static/docs.js.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request):
    return templates.TemplateResponse(request, "pages/docs.html", {"openapi_url": request.app.openapi_url})
