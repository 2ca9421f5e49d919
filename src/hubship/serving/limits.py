"""A request body size limit as a pure ASGI middleware (no body copies, no per-request task).

A declared Content-Length over the limit is refused before the body is read; a chunked body
is counted as it streams and refused once it passes the limit.

Not FastAPI's `max_body_size` (0.165): a declared Content-Length over it gets Starlette's fixed
text/plain "Content Too Large", past any handler, for 4-8x our CPU (bench/body_limit_choice.py).
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised by `receive` past the limit. Routes read their body with `request.body()`: a FastAPI
    body parameter would turn it into a 400 "error parsing the body"."""


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.message = orjson.dumps({"detail": (
            f"request body larger than {max_bytes} bytes; send fewer records per request "
            "(or raise HUBSHIP_MAX_BODY_BYTES)")})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = self.declared_length(scope)
        if length is not None:
            if length > self.max_bytes:
                await self.refuse(send)
                return
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    def declared_length(self, scope: Scope) -> int | None:
        """The body size the request declares (None: not declared, e.g. chunked); a
        Content-Length that is not a number counts as over the limit."""
        for key, value in scope["headers"]:
            if key == b"content-length":
                return int(value) if value.isdigit() else self.max_bytes + 1
        return None

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self.refuse(send)

    async def refuse(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.message)).encode()),
        ]})
        await send({"type": "http.response.body", "body": self.message})
