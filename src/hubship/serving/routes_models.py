"""The models of the served release, and predictions.

The predict handler is the hot path (`fast_path` calls it before FastAPI's layers), and it
never runs a model: it reads the active release once (a large body, read in a thread, is
read again if a reload swapped meanwhile), validates the raw bytes with the release's prebuilt
parser, queues the records with the inference engine (`engine`, which batches concurrent
requests into one model call in an inference worker), awaits their answer and writes it after
the release's prebuilt head.

Bodies over INLINE_BODY_BYTES are validated in a worker thread: up to 1 MB of JSON takes
milliseconds to tens of milliseconds to check (see `schemas` for the limits that bound it).
That work runs one request at a time (`in_worker`): the event loop then waits for the GIL
behind one busy thread, not behind every big request at once, so /health stays quick however
many arrive (bench/predict_limits.py).
"""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from hubship.errors import redact
from hubship.serving.answers import (
    InvalidRequest,
    ModelDetail,
    ModelSummary,
    OnePrediction,
    Predictions,
)
from hubship.serving.input_warnings import Warned
from hubship.serving.metrics import UNKNOWN_MODEL
from hubship.serving.responses import detail, refusal
from hubship.serving.runner import JobFailed
from hubship.serving.schemas import InvalidInput
from hubship.serving.state import Active, StateDep

log = logging.getLogger("hubship.serving")
router = APIRouter(tags=["models"])
INLINE_BODY_BYTES = 16_384  # larger bodies are validated in a worker thread
RETRY_AFTER = {"Retry-After": "1"}


async def in_worker(app_state: Any, func: Any, *args: Any) -> Any:
    """`func(*args)` in a worker thread, one request at a time (see the module doc)."""
    async with app_state.heavy_work:
        return await run_in_threadpool(func, *args)


def _unknown(active: Active, name: str) -> Response:
    return detail(f"unknown model {name!r}; {active.unknown_model}", 404)


NOT_LOADED = refusal("no release loaded")
UNKNOWN = refusal("unknown model")


@router.get("/models", response_model=list[ModelSummary], responses={503: NOT_LOADED})
async def list_models(state: StateDep) -> list[ModelSummary] | Response:
    """Every model of the served release, with its metrics."""
    active = state.active
    if active is None:
        return detail(state.reason, 503)
    models = active.model_set.manifest.models
    return [ModelSummary(name=name, task=entry.task, estimator=entry.estimator,
                         metrics=entry.metrics, primary_metric=entry.primary_metric)
            for name, entry in models.items()]


@router.get("/models/{name}", response_model=ModelDetail,
            responses={404: UNKNOWN, 503: NOT_LOADED})
async def describe_model(name: str, state: StateDep) -> ModelDetail | Response:
    """One model: task, inputs (types, allowed values and ranges), output, metrics."""
    active = state.active
    if active is None:
        return detail(state.reason, 503)
    entry = active.model_set.manifest.models.get(name)
    if entry is None:
        return _unknown(active, name)
    return ModelDetail(name=name, task=entry.task, estimator=entry.estimator,
                       metrics=entry.metrics, primary_metric=entry.primary_metric,
                       inputs=entry.inputs, output=entry.output,
                       example=entry.example,  # None for a release made before hubship/2
                       array=entry.array)


@router.post(
    "/models/{name}/predict",
    # the fast path answers (PredictFastPath), from prebuilt bytes: these models document it
    response_model=OnePrediction | Predictions,
    responses={404: UNKNOWN,
               413: refusal("body larger than HUBSHIP_MAX_BODY_BYTES"),
               422: refusal("a field is invalid (the first HUBSHIP_MAX_ERRORS errors), or more "
                            "records than HUBSHIP_MAX_RECORDS, or the model gave no number for "
                            "values far outside its training data", InvalidRequest),
               500: refusal("the model failed on valid input"),
               503: refusal("not ready, or busy: retry after Retry-After")},
    # while a release is served, the document has one path per model, with its own body
    # (serving.openapi); this is the body documented before that
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"anyOf": [{"type": "object"}, {"type": "array", "minItems": 1,
                                                  "items": {"type": "object"}}],
                   "description": "one record, or a list of records"}}}}},
)
async def predict(name: str, request: Request) -> Response:
    """Predict one record (an object) or several (a list); the answer names the release sha
    and carries `warnings` for values outside what the model was trained on."""
    answer = await predict_answer(request.app.state, name, await request.body(), perf_counter())
    if isinstance(answer, Response):
        return answer
    return Response(answer, media_type="application/json")


async def predict_answer(app_state: Any, name: str, body: bytes, started: float
                         ) -> bytes | Response:
    """The 200 answer's JSON bytes, or the error response; the route above and
    `fast_path.PredictFastPath` write it."""
    active: Active | None = app_state.serving.active  # read once: this request's release
    if active is None:
        app_state.metrics.observe(UNKNOWN_MODEL, 503, perf_counter() - started)
        return detail(app_state.serving.reason, 503)
    predictor = active.predictors.get(name)
    if predictor is None:
        app_state.metrics.observe(UNKNOWN_MODEL, 404, perf_counter() - started)
        return _unknown(active, name)
    try:
        if len(body) <= INLINE_BODY_BYTES:
            records, batched = predictor.parser.parse(body)
        else:
            records, batched = await in_worker(app_state, predictor.parser.parse, body)
            if app_state.serving.active is not active:  # swapped while it was read: not
                # queued yet, so it goes to the release served now (the old one may be gone)
                return await predict_answer(app_state, name, body, started)
    except InvalidInput as exc:
        app_state.metrics.observe(name, 422, perf_counter() - started)
        return detail(exc.errors, 422)
    warnings = [] if predictor.watch.idle else predictor.watch.check(records, batched=batched)
    answer = app_state.engine.submit(active.key, predictor, predictor.rows(records))
    if not isinstance(answer, JobFailed):
        answer = await answer
    if isinstance(answer, JobFailed):
        if answer.status == 500 and warnings:
            return _beyond_training(app_state, name, answer, warnings, started)
        return _failed(app_state, name, answer, started)
    tail = b',"warnings":[]}'
    if warnings:
        for warned in warnings:
            app_state.metrics.out_of_range.labels(name, warned.input).inc()
        tail = b',"warnings":' + orjson.dumps([w.message for w in warnings]) + b"}"
    content: bytes
    if batched:
        content = active.heads[name] + b'"predictions":' + answer + tail
    else:  # the one record's answer: its list without the brackets
        content = active.heads[name] + b'"prediction":' + answer[1:-1] + tail
    app_state.metrics.observe(name, 200, perf_counter() - started)
    return content


def _beyond_training(app_state: Any, name: str, failure: JobFailed, warnings: list[Warned],
                     started: float) -> Response:
    """The model failed (or gave NaN) on records holding values outside what it was trained
    on: a 422 naming those values, since the client can fix them; not a 500."""
    log.info("%s; values outside the training data: %s", redact(failure.message),
             "; ".join(w.message for w in warnings))
    app_state.metrics.observe(name, 422, perf_counter() - started)
    return detail([{"loc": list(w.loc), "type": "outside_training_data", "msg": (
        f"{w.message}, and the model gave no prediction for it ({failure.message}); send a "
        "value nearer the training data")} for w in warnings], 422)


def _failed(app_state: Any, name: str, failure: JobFailed, started: float) -> Response:
    """A request the engine could not answer: the model failed on its records (500), the
    queue is full or a worker died (503, retry), or its deadline passed (504)."""
    message = redact(failure.message)
    if failure.status == 500:
        log.error("%s", message)
    app_state.metrics.observe(name, failure.status, perf_counter() - started)
    response = detail(message, failure.status)
    if failure.status == 503:
        response.headers.update(RETRY_AFTER)
    return response
