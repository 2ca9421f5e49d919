"""The backend's FastAPI app: `create_app()` wires settings, state, routes and background tasks.

Models load in a background task started by the lifespan (never at import): the process
answers /health at once, and /ready once a release is loaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from hubship import __version__
from hubship.config import Settings
from hubship.errors import redact
from hubship.serving import (
    routes_admin,
    routes_health,
    routes_models,
    routes_releases,
)
from hubship.serving.engine import InferenceEngine, worker_count
from hubship.serving.fast_path import PredictFastPath
from hubship.serving.limits import BodyLimit
from hubship.serving.metrics import ServingMetrics
from hubship.serving.openapi import install_openapi
from hubship.serving.release_history import ReleaseHistory
from hubship.serving.reload import Reloader
from hubship.serving.state import ServingState

if TYPE_CHECKING:
    from huggingface_hub import HfApi

log = logging.getLogger("hubship.serving")


class RedactSecrets(logging.Filter):
    """Scrub every configured secret, and anything token-shaped, from log records."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        return True


def configure_logging(settings: Settings) -> None:
    """Give hubship's loggers a redacting handler, unless the host already set up logging."""
    logger = logging.getLogger("hubship")
    ours = [h for h in logger.handlers if getattr(h, "hubship", False)]
    if not ours and (logging.getLogger().handlers or logger.handlers):
        return  # the embedding program (or pytest) owns logging
    if not ours:
        handler: logging.Handler = logging.StreamHandler()
        handler.hubship = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        ours = [handler]
    for handler in ours:
        handler.filters = [RedactSecrets(settings.secrets())]


def warn_if_unverified(settings: Settings) -> None:
    """Say once, loudly, when releases are loaded without a signature check."""
    from hubship.release import Trust

    if not Trust.from_settings(settings).verifies:
        log.warning("!!! HUBSHIP_VERIFY_KEY is not set: releases are NOT signature-verified, so "
                    "whoever can write to %s runs code in this process. Set it to the public "
                    "key of the publisher's HUBSHIP_SIGNING_KEY (`hubship keygen`). !!!",
                    settings.hf_repo_id or "the model repo")


def create_app(settings: Settings | None = None, *, hf_api: HfApi | None = None
               ) -> FastAPI:
    settings = settings or Settings.load()
    configure_logging(settings)
    warn_if_unverified(settings)  # and a malformed HUBSHIP_VERIFY_KEY stops the start here
    state = ServingState(settings.model_revision)
    metrics = ServingMetrics()
    engine = InferenceEngine(
        workers=worker_count(settings.inference_workers), max_batch=settings.max_batch,
        batch_wait=settings.batch_wait_ms / 1000, queue_rows=settings.queue_rows,
        timeout=settings.predict_timeout, metrics=metrics)
    reloader = Reloader(settings, state, metrics, hf_api, engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine.start()  # the inference workers start while the release loads
        app.state.heavy_work = asyncio.Semaphore(1)  # routes_models.in_worker, on this loop
        reloader.start()  # in the background: /health answers while the release loads
        yield
        await reloader.stop()
        await engine.stop()

    # /docs and /redoc load Swagger UI and ReDoc from files in the fastapi-offline package
    # (under /static-offline-docs), so they work with no internet, as production networks are
    app = FastAPIOffline(
        title="hubship backend", version=__version__, lifespan=lifespan,
        description="Serves the scikit-learn models of one Hub release; see /version.",
        # FastAPI's native OpenTelemetry checks for configured providers on every request
        # (~10 us, a tenth of a prediction's HTTP cost); hubship's metrics are on /metrics
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings, app.state.serving, app.state.metrics = settings, state, metrics
    app.state.reloader, app.state.engine = reloader, engine
    app.state.history = ReleaseHistory(settings, hf_api, state)
    for module in (routes_health, routes_models, routes_releases, routes_admin):
        app.include_router(module.router)
    install_openapi(app, max_records=settings.max_records)
    if settings.cors_origin_list:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list,
                           allow_methods=["GET", "POST"], allow_headers=["*"])
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Predict requests are answered before every layer of the stack, FastAPI's own included
    # (see fast_path). Starlette builds the stack on the first request unless it is set.
    app.middleware_stack = PredictFastPath(
        app.build_middleware_stack(), state=app.state, max_body_bytes=settings.max_body_bytes,
        cors=bool(settings.cors_origin_list))
    return app
