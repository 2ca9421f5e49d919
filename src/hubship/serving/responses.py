"""JSON answers serialised with orjson straight to bytes (no response-model pass)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

from hubship.errors import HubshipError, redact


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def detail(message: Any, status_code: int) -> Response:
    return json_response({"detail": message}, status_code)


def explain(exc: BaseException, secrets: list[str]) -> str:
    """One line for an answer or the log: the problem and, for our errors, how to fix it."""
    if isinstance(exc, HubshipError):
        text = f"{exc.message} (hint: {exc.hint})" if exc.hint else exc.message
    else:
        text = f"{type(exc).__name__}: {exc}"
    return redact(text, secrets)
