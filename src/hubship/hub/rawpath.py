"""Route on the raw request path, so a revision such as `rel/1.0` (sent as `rel%2F1.0`) stays
one path segment; and give a repo id without a namespace the hub user's.

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


# What may follow a repo id in /api/models/{repo}/...: a repo may not be named after one, so
# `/api/models/x/tree/main` can only mean the repo `x` of the hub's user.
REPO_ACTIONS = frozenset({
    "revision", "tree", "refs", "commits", "commit", "preupload", "paths-info", "tag", "branch",
    "settings", "discussions", "super-squash", "xet-write-token", "xet-read-token",
    "resolve", "info",
})


def with_default_namespace(segments: list[str], user: str) -> list[str]:
    """Path segments (after the leading "") with the user's namespace added where a repo id
    has none: `/api/models/x[/action...]`, `/x/resolve/...`, `/x.git/info/lfs/...`."""
    if segments[:2] == ["api", "models"] and len(segments) >= 3:
        rest = segments[2:]
        if len(rest) == 1 or rest[1] in REPO_ACTIONS:
            return ["api", "models", user, *rest]
        return segments
    if segments[0] == "api" or len(segments) < 3:
        return segments
    if segments[1] == "resolve" or (segments[0].endswith(".git") and segments[1] == "info"):
        return [user, *segments]
    return segments


class RawPathMiddleware:
    def __init__(self, app: ASGIApp, *, default_namespace: str) -> None:
        self.app, self.default_namespace = app, default_namespace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw:
            path = raw.decode("latin-1").split("?", 1)[0]
            segments = [_escape_segment(s) for s in path.split("/")[1:]]
            segments = with_default_namespace(segments, self.default_namespace)
            scope = {**scope, "path": "/" + "/".join(segments)}
        await self.app(scope, receive, send)
