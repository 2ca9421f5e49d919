"""The hub's FastAPI app: storage, routes, error rendering, request log and body limit."""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubship.hub import (
    pages,
    routes_account,
    routes_commit,
    routes_files,
    routes_lfs,
    routes_repos,
    routes_unsupported,
)
from hubship.hub.errors import HubHTTPError, handle_hub_error
from hubship.hub.guard import BodyLimitMiddleware, WriteGuardMiddleware
from hubship.hub.rawpath import RawPathMiddleware
from hubship.hub.storage import Store
from hubship.hub.validation import check_namespace
from hubship.hub.webhooks import Webhook, WebhookSender

DEFAULT_MAX_BODY_BYTES = 2 * 1024**3
# huggingface.co stores files over 10 MB through LFS; so does this hub
DEFAULT_LFS_THRESHOLD_BYTES = 10 * 1000 * 1000
DEFAULT_LFS_CHUNK_BYTES = 1024**3  # objects over it upload in parts of this size
MAX_LFS_OBJECT_BYTES = 500 * 1000**3
DEFAULT_USER = "local"
# TEST ONLY, never set it in production: every commit pauses this many seconds with its SQLite
# transaction open (blobs published, rows written, branch moved, not yet COMMITted), after
# logging PAUSE_LOG_LINE, so a crash test can kill the hub at that exact point.
TEST_PAUSE_BEFORE_COMMIT_ENV = "HUBSHIP_HUB_TEST_PAUSE_BEFORE_COMMIT"
PAUSE_LOG_LINE = "test hook: commit transaction open, pausing before COMMIT"
log = logging.getLogger("hubship.hub")


def _test_pause_before_commit() -> Callable[[], None] | None:
    seconds = float(os.environ.get(TEST_PAUSE_BEFORE_COMMIT_ENV) or 0)
    if seconds <= 0:
        return None

    def pause() -> None:
        log.warning("%s (%s=%s)", PAUSE_LOG_LINE, TEST_PAUSE_BEFORE_COMMIT_ENV, seconds)
        time.sleep(seconds)

    return pause


class RequestLogMiddleware:
    """One line per request: method, path, status, duration. Headers (tokens) never logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            raw = scope.get("raw_path") or scope["path"].encode()
            log.info("%s %s %d %.1fms", scope["method"], raw.decode("latin-1"), status,
                     (time.perf_counter() - started) * 1000)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')}"
        for err in exc.errors()
    )
    return JSONResponse({"error": f"malformed request: {problems}"}, status_code=400)


def create_app(data_dir: Path, *, token: str | None = None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, loopback_only: bool = True,
               lfs_threshold_bytes: int = DEFAULT_LFS_THRESHOLD_BYTES,
               lfs_chunk_bytes: int = DEFAULT_LFS_CHUNK_BYTES, user: str = DEFAULT_USER,
               webhooks: Sequence[tuple[str, str | None]] = (), public_url: str = "") -> FastAPI:
    """The hub serving the repos stored under `data_dir`; with `token`, writes (and reads of
    private repos) need `Authorization: Bearer <token>`. `loopback_only` (a hub listening on
    127.0.0.1) accepts a browser's own-origin write only under a loopback host name. Files
    over `lfs_threshold_bytes` upload through LFS, in parts of `lfs_chunk_bytes` when bigger
    (never more than one request body may hold). `user` owns the token, and the repos created
    without a namespace. Every repo update is POSTed to each of `webhooks` (URL, secret), with
    repo URLs on `public_url`."""
    hooks = [Webhook(url, secret) for url, secret in webhooks]
    store = Store(data_dir, before_commit=_test_pause_before_commit(), webhooks=hooks,
                  public_url=public_url)
    sender = WebhookSender(str(store.db_path), hooks)
    store.on_update = sender.wake.set

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if hooks:
            sender.start()
        yield
        if hooks:
            sender.stop()

    app = FastAPI(title="hubship hub", summary="A Hugging Face Hub-compatible model registry",
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=lifespan)
    app.state.store = store
    app.state.token = token
    app.state.user = check_namespace(user)
    app.state.max_body_bytes = max_body_bytes
    app.state.lfs_threshold_bytes = lfs_threshold_bytes
    app.state.lfs_chunk_bytes = min(lfs_chunk_bytes, max_body_bytes)
    app.state.lfs_max_object_bytes = MAX_LFS_OBJECT_BYTES
    app.state.lfs_url_key = secrets.token_bytes(32)  # signs upload URLs; dies with the process
    app.add_exception_handler(HubHTTPError, handle_hub_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    for module in (routes_repos, routes_commit, routes_files, routes_lfs, routes_account,
                   routes_unsupported, pages):
        app.include_router(module.router)
    # outermost last: log -> raw path -> body limit -> write guard -> routes
    app.add_middleware(WriteGuardMiddleware, token=token, loopback_only=loopback_only,
                       signed_routes=(re.compile("^" + routes_lfs.SIGNED_PREFIX),))
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    app.add_middleware(RawPathMiddleware, default_namespace=app.state.user)
    app.add_middleware(RequestLogMiddleware)
    return app
