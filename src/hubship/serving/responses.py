"""Answers the routes write themselves (errors, a 503 readiness), and how routes document
them: JSON serialised straight to bytes (orjson, or the model's own pydantic-core serialiser).

A route's 200 body is its declared model (`answers`), serialised by FastAPI; an error status
is documented with `refusal(...)` so the OpenAPI document carries its body too.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel

from hubship.errors import HubshipError, redact
from hubship.serving.answers import ErrorDetail


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def model_response(answer: BaseModel, status_code: int) -> Response:
    """`answer` as a response with another status than the route's own."""
    return Response(answer.__pydantic_serializer__.to_json(answer), status_code=status_code,
                    media_type="application/json")


def detail(message: Any, status_code: int) -> Response:
    return json_response({"detail": message}, status_code)


def refusal(description: str, model: type[BaseModel] = ErrorDetail) -> dict[str, Any]:
    """An error status in a route's `responses=`: what it means, and its body."""
    return {"description": description, "model": model}


def explain(exc: BaseException, secrets: list[str]) -> str:
    """One line for an answer or the log: the problem and, for our errors, how to fix it."""
    if isinstance(exc, HubshipError):
        text = f"{exc.message} (hint: {exc.hint})" if exc.hint else exc.message
    else:
        text = f"{type(exc).__name__}: {exc}"
    return redact(text, secrets)
