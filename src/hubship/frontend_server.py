"""Serve the built frontend and forward `/api/<path>` to the backend's `/<path>`.

The local twin of the Vercel deployment (`frontend/vercel.json`): the same build, the same
`/api` rewrite (prefix stripped), the same security headers. `ensure_built` (re)builds the
frontend with npm when `dist/` is missing or older than its sources.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from hubship.errors import HubshipError, redact

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

# Connection-level headers are never forwarded (RFC 9110 7.6.1); host and length are redone by
# httpx, and the body arrives decoded, so its encoding is dropped too.
_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "host", "content-length", "content-encoding",
}
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_SOURCES = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts",
            "tsconfig.json")


class _SinglePageFiles(StaticFiles):
    """Static files; an unknown path gets index.html (the page handles its own routes)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            response = await super().get_response("index.html", scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def create_frontend_app(
    dist_dir: Path, backend_url: str, *, timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The frontend site: `dist_dir` at `/`, and `/api/<path>` forwarded to `backend_url`."""
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
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
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
        for key, value in answer.headers.multi_items():
            if key.lower() not in _HOP_BY_HOP:
                response.headers.append(key, value)
        return response

    routes = [
        Route("/api", forward, methods=_METHODS),
        Route("/api/{path:path}", forward, methods=_METHODS),
        Mount("/", app=_SinglePageFiles(directory=dist_dir, html=True)),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


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
