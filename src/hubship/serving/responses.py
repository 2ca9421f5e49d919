"""JSON answers serialised with orjson straight to bytes (no response-model pass)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def detail(message: Any, status_code: int) -> Response:
    return json_response({"detail": message}, status_code)
