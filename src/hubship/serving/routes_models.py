"""The models of the served release, and predictions.

The predict handler is the hot path: it reads the active release once, validates the raw
bytes with the release's prebuilt parser, runs the model and writes orjson bytes.

Up to INLINE_ROWS records predict on the event loop, on purpose, for throughput (see
bench/serving.py): for the small tabular models this serves, one call costs a few milliseconds
whether it has 1 or 64 rows, and running it inline saves the hop to a worker thread and back
and the worker pool's cap of 40 threads. Meanwhile the loop answers nothing else, so /health
waits at most for the predictions already queued, a few milliseconds each. Bigger batches go
to a worker thread; serving a slow model, lower INLINE_ROWS.

Bodies over INLINE_BODY_BYTES are validated in a worker thread too: up to 1 MB of JSON takes
milliseconds to tens of milliseconds to check (see `schemas` for the limits that bound it).
That work (big bodies, big batches) runs one request at a time (`in_worker`): the event loop
then waits for the GIL behind one busy thread, not behind every big request at once, so
/health stays quick however many arrive (bench/predict_limits.py).
"""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Any

import orjson
import sklearn
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from hubship.errors import redact
from hubship.manifest import ModelEntry
from hubship.serving.metrics import UNKNOWN_MODEL
from hubship.serving.predictor import Predictor
from hubship.serving.responses import detail, json_response
from hubship.serving.schemas import InvalidInput
from hubship.serving.state import Active, StateDep

log = logging.getLogger("hubship.serving")
router = APIRouter(tags=["models"])
INLINE_ROWS = 64  # larger batches run in a worker thread so the loop keeps answering
INLINE_BODY_BYTES = 16_384  # larger bodies are validated in a worker thread


async def in_worker(request: Request, func: Any, *args: Any) -> Any:
    """`func(*args)` in a worker thread, one request at a time (see the module doc)."""
    async with request.app.state.heavy_work:
        return await run_in_threadpool(func, *args)


def predict_in_worker(predictor: Predictor, records: list[BaseModel]) -> list[dict[str, Any]]:
    """`predictor.predict` in a worker thread, with the loop's scikit-learn config (which is
    per thread: without this, workers would scan every batch for NaN again)."""
    with sklearn.config_context(assume_finite=True):
        return predictor.predict(records)


def _summary(name: str, entry: ModelEntry) -> dict[str, Any]:
    return {
        "name": name, "task": entry.task, "estimator": entry.estimator,
        "metrics": entry.metrics, "primary_metric": entry.primary_metric.model_dump(),
    }


def _unknown(active: Active, name: str) -> Response:
    return detail(f"unknown model {name!r}; {active.unknown_model}", 404)


@router.get("/models", responses={503: {"description": "no release loaded"}})
async def list_models(state: StateDep) -> Response:
    """Every model of the served release, with its metrics."""
    active = state.active
    if active is None:
        return detail(state.reason, 503)
    models = active.model_set.manifest.models
    return json_response([_summary(name, entry) for name, entry in models.items()])


@router.get("/models/{name}", responses={404: {"description": "unknown model"},
                                        503: {"description": "no release loaded"}})
async def describe_model(name: str, state: StateDep) -> Response:
    """One model: task, inputs (types, allowed values and ranges), output, metrics."""
    active = state.active
    if active is None:
        return detail(state.reason, 503)
    entry = active.model_set.manifest.models.get(name)
    if entry is None:
        return _unknown(active, name)
    body = _summary(name, entry)
    body["inputs"] = [spec.model_dump() for spec in entry.inputs]
    body["output"] = entry.output.model_dump()
    return json_response(body)


@router.post(
    "/models/{name}/predict",
    responses={404: {"description": "unknown model"},
               413: {"description": "body larger than HUBSHIP_MAX_BODY_BYTES"},
               422: {"description": "a field is invalid (the first HUBSHIP_MAX_ERRORS errors), "
                     "or more records than HUBSHIP_MAX_RECORDS"},
               500: {"description": "the model failed on valid input"},
               503: {"description": "not ready"}},
    # while a release is served, the document has one path per model, with its own body
    # (serving.openapi); this is the body documented before that
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"anyOf": [{"type": "object"}, {"type": "array", "minItems": 1,
                                                  "items": {"type": "object"}}],
                   "description": "one record, or a list of records"}}}}},
)
async def predict(name: str, request: Request) -> Response:
    """Predict one record (an object) or several (a list); the answer names the release sha."""
    started = perf_counter()
    app_state = request.app.state
    active: Active | None = app_state.serving.active  # read once: this request's release
    if active is None:
        app_state.metrics.observe(UNKNOWN_MODEL, 503, perf_counter() - started)
        return detail(app_state.serving.reason, 503)
    predictor = active.predictors.get(name)
    if predictor is None:
        app_state.metrics.observe(UNKNOWN_MODEL, 404, perf_counter() - started)
        return _unknown(active, name)
    body = await request.body()
    try:
        if len(body) <= INLINE_BODY_BYTES:
            records, batched = predictor.parser.parse(body)
        else:
            records, batched = await in_worker(request, predictor.parser.parse, body)
        if len(records) <= INLINE_ROWS:
            outputs = predictor.predict(records)
        else:
            outputs = await in_worker(request, predict_in_worker, predictor, records)
    except InvalidInput as exc:
        app_state.metrics.observe(name, 422, perf_counter() - started)
        return detail(exc.errors, 422)
    except Exception as exc:  # the model itself failed on valid input
        log.exception("model %s failed", name)
        app_state.metrics.observe(name, 500, perf_counter() - started)
        message = redact(f"model {name!r} failed: {type(exc).__name__}: {exc}")
        return detail(message, 500)
    model_set = active.model_set
    answer: dict[str, Any] = {"model": name, "sha": model_set.sha, "release": model_set.release}
    if batched:
        answer["predictions"] = outputs
    else:
        answer["prediction"] = outputs[0]
    response = Response(orjson.dumps(answer), media_type="application/json")
    app_state.metrics.observe(name, 200, perf_counter() - started)
    return response
