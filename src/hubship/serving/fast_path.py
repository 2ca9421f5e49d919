"""`POST /models/{name}/predict` answered before the app's other layers.

Starlette's error middleware, FastAPI's exception telemetry and body limit, ours, CORS and
routing wrap every request. For the predict route those layers cost more CPU than the request's
own work (validation, queueing, the answer), so `PredictFastPath`, set around the whole stack
(`app.create_app`), answers predict requests itself and keeps what those layers did that predict
needs:

- the body limit (HUBSHIP_MAX_BODY_BYTES): a declared Content-Length over it is refused before
  the body is read; a chunked body is counted as it arrives;
- an unexpected exception answers 500 (and is logged), as Starlette's error middleware would;
- CORS: a request carrying an `Origin` header, when CORS origins are configured, goes on to
  the layers below, so CORSMiddleware answers it.

The answer is the same as the FastAPI route's (`routes_models.predict`, the documented one,
which runs the same `predict_answer`); only the path through the framework differs.
"""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Any

from fastapi import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hubship.serving.limits import BodyLimit
from hubship.serving.routes_models import predict_answer

log = logging.getLogger("hubship.serving")
_JSON = (b"content-type", b"application/json")
_FAILED = b'{"detail":"internal error while predicting; see the backend log"}'


class PredictFastPath:
    def __init__(self, app: ASGIApp, *, state: Any, max_body_bytes: int, cors: bool) -> None:
        self.app, self.state, self.cors = app, state, cors
        self.limit = BodyLimit(app, max_bytes=max_body_bytes)

    def _model_of(self, scope: Scope) -> str | None:
        """The model a `POST /models/{name}/predict` request names, or None for any other
        request (and for a CORS request, which the full stack answers)."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path: str = scope["path"]
        if not path.startswith("/models/") or not path.endswith("/predict"):
            return None
        name = path[8:-8]
        if not name or "/" in name:
            return None
        if self.cors and any(key == b"origin" for key, _ in scope["headers"]):
            return None
        return name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = self._model_of(scope)
        if name is None:
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        declared = self.limit.declared_length(scope)
        if declared is not None and declared > self.limit.max_bytes:
            await self.limit.refuse(send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit.max_bytes:
                await self.limit.refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        try:
            answer = await predict_answer(self.state, name, body, started)
        except Exception:
            log.exception("predict %s failed", name)
            await _send(send, 500, _FAILED)
            return
        if isinstance(answer, Response):
            await answer(scope, receive, send)
        else:
            await _send(send, 200, answer)


async def _send(send: Send, status: int, content: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [_JSON, (b"content-length", b"%d" % len(content))]})
    await send({"type": "http.response.body", "body": content})
