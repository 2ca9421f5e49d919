"""Route on the raw request path, so a revision such as `rel/1.0` (sent as `rel%2F1.0`) stays
one path segment.

uvicorn hands the app `scope["path"]` with `%2F` already decoded, which would split the
revision in two. `RawPathMiddleware` rebuilds `scope["path"]` from `scope["raw_path"]`,
decoding every segment but re-escaping `%` and `/` inside it; the `seg` and `rpath` route
convertors then decode those escapes, so handlers receive the real names.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send


class SegmentConvertor(Convertor[str]):
    """One path segment, which may contain `/` (sent as `%2F`)."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return quote(value, safe="")


class RepoPathConvertor(Convertor[str]):
    """The rest of the path: a file or folder path inside a repo."""

    regex = ".*"

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return quote(value, safe="/")


register_url_convertor("seg", SegmentConvertor())
register_url_convertor("rpath", RepoPathConvertor())


def _escape_segment(raw_segment: str) -> str:
    return unquote(raw_segment).replace("%", "%25").replace("/", "%2F")


class RawPathMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw:
            path = raw.decode("latin-1").split("?", 1)[0]
            scope = {**scope, "path": "/".join(_escape_segment(s) for s in path.split("/"))}
        await self.app(scope, receive, send)
