"""What every request goes through before a route sees a byte of its body.

`WriteGuardMiddleware` decides on the headers alone, so a refused write costs nothing:
- a request carrying a token that is not the hub's gets 401, reads included;
- a write (any method but GET, HEAD and OPTIONS, except the read-only POSTs in READ_ROUTES)
  needs the hub's token, when it has one;
- a write from a web page is refused: a foreign `Origin` (browsers send one on every
  cross-origin POST/PUT/DELETE, `null` included), or a content type a page can send without a
  CORS preflight (text/plain, form-urlencoded, multipart/form-data), which no
  `huggingface_hub` call ever uses for a write. So no page can write to a tokenless hub, even
  through DNS rebinding (a loopback hub accepts its own origin only under a loopback name).

`BodyLimitMiddleware` refuses a declared `Content-Length` over the limit, and counts the bytes
of a chunked body as they arrive, failing the request at the first byte over it.
"""

from __future__ import annotations

import hmac
import re
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubship.hub.errors import BadRequest, Forbidden, HubHTTPError, Unauthorized, handle_hub_error

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that only read (the client sends paths-info as a form).
READ_ROUTES = (re.compile(r"^/api/models/[^/]+/[^/]+/paths-info/[^/]+$"),)
CORS_SIMPLE_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded",
                               "multipart/form-data"})
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def bearer_matches(authorization: bytes, token: str) -> bool:
    """True when an Authorization header value is `Bearer <token>` (constant-time)."""
    return hmac.compare_digest(authorization, f"Bearer {token}".encode())


def is_read_route(method: str, path: str) -> bool:
    return method in SAFE_METHODS or any(r.match(path) for r in READ_ROUTES)


def _own_origin_allowed(origin: str, host: str, *, loopback_only: bool) -> bool:
    """True when `origin` is the hub's own (the origin the request was sent to)."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
        return False
    return not loopback_only or (parts.hostname or "") in LOOPBACK_NAMES


def write_refusal(scope: Scope, *, token: str | None, loopback_only: bool) -> HubHTTPError | None:
    """Why this write must be refused before its body is read, or None to let it through."""
    headers = dict(scope["headers"])
    origin = headers.get(b"origin")
    if origin is not None and not _own_origin_allowed(
        origin.decode("latin-1"), headers.get(b"host", b"").decode("latin-1"),
        loopback_only=loopback_only,
    ):
        return Forbidden(
            "writes from a web page are refused: this request carries the foreign Origin "
            f"{origin.decode('latin-1')!r}. Use huggingface_hub or the hf CLI."
        )
    media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if media_type.decode("latin-1") in CORS_SIMPLE_TYPES:
        return UnsupportedMediaType(
            f"a write sent as {media_type.decode('latin-1')!r} is refused (a web page can send "
            "that type to any site): send application/json, or application/x-ndjson for a "
            "commit, as huggingface_hub does"
        )
    if token is not None and not bearer_matches(headers.get(b"authorization", b""), token):
        return Unauthorized(
            "this hub needs its token for writes: pass token=... to HfApi or set HF_TOKEN "
            "to the value given to `hubship hub --token`"
        )
    return None


class UnsupportedMediaType(HubHTTPError):
    status = 415


class WriteGuardMiddleware:
    """Refuse writes without the token, from a foreign Origin or with a CORS-simple type."""

    def __init__(self, app: ASGIApp, *, token: str | None, loopback_only: bool,
                 signed_routes: tuple[re.Pattern[str], ...] = ()) -> None:
        self.app, self.token, self.loopback_only = app, token, loopback_only
        # routes carrying their own credential in the URL (checked by the route, still before
        # the body): no bearer token needed, the Origin and content-type checks still apply
        self.signed_routes = signed_routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            signed = any(r.match(scope["path"]) for r in self.signed_routes)
            refusal: HubHTTPError | None = None
            authorization = dict(scope["headers"]).get(b"authorization")
            if (self.token is not None and authorization is not None and not signed
                    and not bearer_matches(authorization, self.token)):
                # a wrong token is an error on reads too, not an anonymous read
                refusal = Unauthorized("the token sent is not this hub's token: pass the "
                                       "value given to `hubship hub --token` (HF_TOKEN)")
            elif not is_read_route(scope["method"], scope["path"]):
                refusal = write_refusal(scope, token=None if signed else self.token,
                                        loopback_only=self.loopback_only)
            if refusal is not None:
                response = await handle_hub_error(Request(scope), refusal)
                response.headers["Connection"] = "close"  # the unread body is not drained
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyTooLarge(BadRequest):
    def __init__(self, limit: int, size: int | None = None) -> None:
        what = f"request body of {size} bytes is" if size else "request body is"
        super().__init__(
            f"{what} over the hub's limit of {limit} bytes; split it into several commits or "
            "start the hub with a larger --max-body-bytes"
        )


class BodyLimitMiddleware:
    """Refuse a body over `max_body_bytes`: at once when its Content-Length says so, else as
    soon as the chunks received pass the limit (raised from `receive`, so the route stops)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length and length.isdigit() and int(length) > self.max_body_bytes:
            response = await handle_hub_error(Request(scope),
                                              BodyTooLarge(self.max_body_bytes, int(length)))
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        await self.app(scope, counting_receive, send)
