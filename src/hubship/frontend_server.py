"""Serve the built frontend and forward `/api/<path>` to the backend's `/<path>`.

The local twin of the Vercel deployment (`frontend/vercel.json`): the same build, the same
`/api` rewrite (prefix stripped), the same security headers on every answer (the page, the
forwarded API answers, the errors), and the backend's body limit (HUBSHIP_MAX_BODY_BYTES).
Forwarding follows RFC 9110 7.6.1: connection-specific headers, and those named in
`Connection`, are dropped both ways; a redirect to the backend is rewritten to this server's
own `/api/...`; the backend's `Date` and `Server` pass through, and the server adds its own
only to the answers it makes (`hubship frontend` runs uvicorn without its default ones, so
neither is ever doubled). `ensure_built` (re)builds the frontend with npm when `dist/` is
missing or older than its sources.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from hubship.errors import HubshipError, redact
from hubship.serving.limits import BodyLimit

# Kept equal to the "/(.*)" headers in frontend/vercel.json (a test checks it).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}

# Connection-level headers are never forwarded (RFC 9110 7.6.1; plus those `Connection` names);
# host and length are redone by httpx, and the body arrives decoded, so its encoding goes too.
_HOP_BY_HOP = {
    "connection", "proxy-connection", "keep-alive", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host",
    "content-length", "content-encoding",
}
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_SOURCES = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts",
            "tsconfig.json")


class _SinglePageFiles(StaticFiles):
    """Static files; an unknown path gets index.html (the page handles its own routes)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            return await super().get_response("index.html", scope)


class _SiteHeaders:
    """Every answer gets SECURITY_HEADERS (in place of any the backend sent), and a `Date`
    when it has none (the ones this server makes; forwarded ones keep the backend's)."""

    _ours = {name.lower().encode() for name in SECURITY_HEADERS}
    _values = [(name.lower().encode(), value.encode()) for name, value in
               SECURITY_HEADERS.items()]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k not in self._ours]
                if not any(k == b"date" for k, _ in headers):
                    headers.append((b"date", formatdate(usegmt=True).encode()))
                message = {**message, "headers": headers + self._values}
            await send(message)

        await self.app(scope, receive, with_headers)


def create_frontend_app(
    dist_dir: Path, backend_url: str, *, timeout: float = 30.0,
    max_body_bytes: int = 1_000_000, transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The frontend site: `dist_dir` at `/`, and `/api/<path>` forwarded to `backend_url`;
    request bodies over `max_body_bytes` get 413 (HUBSHIP_MAX_BODY_BYTES, as the backend)."""
    dist_dir = Path(dist_dir)
    if not (dist_dir / "index.html").is_file():
        raise HubshipError(
            f"no built frontend in {dist_dir} (index.html is missing)",
            hint="build it: cd frontend && npm ci && npm run build",
        )
    backend_url = backend_url.rstrip("/")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=timeout, transport=transport) as client:
            app.state.client = client
            yield

    backend = httpx.URL(backend_url)

    async def forward(request: Request) -> Response:
        client: httpx.AsyncClient = request.app.state.client
        url = _backend_target(backend, request.path_params.get("path", ""), request.url.query)
        if url is None:
            return JSONResponse(
                {"detail": f"refused to forward {request.url.path!r}: it does not name a "
                 "path on the backend (no '.' or '..' segments)"}, status_code=400)
        headers = dict(_end_to_end(request.headers.items()))
        if request.client:
            headers["x-forwarded-for"] = request.client.host
        headers["x-forwarded-host"] = request.headers.get("host", "")
        headers["x-forwarded-proto"] = request.url.scheme
        try:
            answer = await client.request(
                request.method, url, headers=headers, content=await request.body()
            )
        except httpx.TimeoutException as exc:
            return _unreachable(504, f"the backend at {backend_url} did not answer in time", exc)
        except httpx.HTTPError as exc:
            return _unreachable(502, f"the backend at {backend_url} did not answer", exc)
        response = Response(answer.content, status_code=answer.status_code)
        for key, value in _end_to_end(answer.headers.multi_items()):
            if key.lower() == "location":
                value = _own_location(value, answer.request.url, backend)
            response.headers.append(key, value)
        return response

    routes = [
        Route("/api", forward, methods=_METHODS),
        Route("/api/{path:path}", forward, methods=_METHODS),
        Mount("/", app=_SinglePageFiles(directory=dist_dir, html=True)),
    ]
    middleware = [Middleware(_SiteHeaders), Middleware(BodyLimit, max_bytes=max_body_bytes)]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


def _end_to_end(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """`headers` without the connection-specific ones: _HOP_BY_HOP and any `Connection` names."""
    headers = list(headers)
    named = {token.strip().lower() for key, value in headers if key.lower() == "connection"
             for token in value.split(",")}
    return [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP | named]


def _own_location(location: str, requested: httpx.URL, backend: httpx.URL) -> str:
    """A redirect to the backend, as this server's `/api/...`; any other one unchanged.

    The backend's `Location` is read against the URL it answered (it may be relative), and
    anything under the backend URL's own path maps to `/api` + the rest."""
    try:
        target = requested.join(location)
    except httpx.InvalidURL:
        return location
    prefix = backend.raw_path.split(b"?")[0].rstrip(b"/")
    path = target.raw_path.split(b"?")[0]
    if (target.scheme, target.host, target.port) != (backend.scheme, backend.host,
                                                     backend.port) \
            or not (path == prefix or path.startswith(prefix + b"/")):
        return location
    rest = target.raw_path[len(prefix):].decode("ascii")
    own = "/api" + (rest if rest.startswith("/") else "/" + rest)
    return own + (f"#{target.fragment}" if target.fragment else "")


def _backend_target(backend: httpx.URL, path: str, query: str) -> httpx.URL | None:
    """`backend` + `/<path>?<query>`, or None when that would leave the backend.

    `path` is the route's decoded path parameter (what routing matched), so each segment is
    quoted again: a decoded `%2F@evil.com` can then never become part of the URL's authority.
    Dot segments are refused (they could climb above a backend URL's own path prefix), and
    so is any result whose scheme, host or port is not the backend's.
    """
    segments = path.split("/")
    if any(segment in (".", "..") for segment in segments):
        return None
    quoted = "/".join(quote(segment, safe="") for segment in segments)
    try:
        target = httpx.URL(f"{str(backend).rstrip('/')}/{quoted}")
        if query:
            target = target.copy_with(query=query.encode("latin-1"))
    except (httpx.InvalidURL, UnicodeEncodeError):
        return None
    same_origin = (target.scheme, target.host, target.port) == (
        backend.scheme, backend.host, backend.port)
    return target if same_origin else None


def _unreachable(status: int, message: str, exc: Exception) -> JSONResponse:
    detail = redact(f"{message} ({type(exc).__name__}); is it running?")
    return JSONResponse({"detail": detail}, status_code=status)


def ensure_built(frontend_dir: Path) -> Path:
    """Return `frontend_dir/dist`, building it first when missing or older than the sources.

    Runs `npm ci` when `node_modules` is missing or older than `package-lock.json`, then
    `npm run build`.
    """
    frontend_dir = Path(frontend_dir).resolve()
    dist = frontend_dir / "dist"
    if _is_fresh(frontend_dir, dist):
        return dist
    npm = shutil.which("npm")
    if npm is None:
        raise HubshipError(
            "npm is not installed, so the frontend cannot be built",
            hint="install Node.js 20+ with npm (e.g. apt-get install nodejs npm), or build "
            f"{frontend_dir} elsewhere and copy its dist/ folder here",
        )
    if not _dependencies_current(frontend_dir):
        _run([npm, "ci", "--no-audit", "--no-fund"], frontend_dir)
    _run([npm, "run", "build"], frontend_dir)
    return dist


def _dependencies_current(frontend_dir: Path) -> bool:
    installed = frontend_dir / "node_modules" / ".package-lock.json"  # written by npm ci
    lock = frontend_dir / "package-lock.json"
    return installed.is_file() and (
        not lock.is_file() or installed.stat().st_mtime >= lock.stat().st_mtime
    )


def _is_fresh(frontend_dir: Path, dist: Path) -> bool:
    index = dist / "index.html"
    if not index.is_file():
        return False
    built_at = index.stat().st_mtime
    for name in _SOURCES:
        source = frontend_dir / name
        files = source.rglob("*") if source.is_dir() else [source]
        if any(f.is_file() and f.stat().st_mtime > built_at for f in files):
            return False
    return True


def _run(argv: list[str], cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-20:]
        raise HubshipError(
            f"`{' '.join(['npm', *argv[1:]])}` failed in {cwd} "
            f"(exit {result.returncode}):\n" + "\n".join(output),
            hint=f"run it yourself in {cwd} to see the whole output",
        )
