"""HEAD on every GET route (RFC 9110: a server that answers GET should answer HEAD).

FastAPI routes declare GET only, so HEAD /healthz was a 405 and uptime checkers that probe with
HEAD reported the console down. This pure ASGI middleware runs HEAD as GET and sends only the
status and headers. For a stream (/stream, /logs/stream) it then tells the app the client has
gone, so the generator ends instead of producing events nobody receives.
"""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        done = False

        async def send_headers_only(message: Message) -> None:
            nonlocal done
            if done:
                return
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body":
                done = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def receive_then_gone() -> Message:
            if done:
                return {"type": "http.disconnect"}
            return await receive()

        await self.app({**scope, "method": "GET"}, receive_then_gone, send_headers_only)
