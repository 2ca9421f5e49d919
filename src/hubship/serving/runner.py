"""What an inference worker runs: one model call for a whole batch, answers per request.

A `ModelRunner` holds a fitted estimator and what is needed to turn its output into answers;
an inference process builds it from the model file it loaded. It imports only numpy, pandas
and orjson (never FastAPI or pydantic), so a worker process starts fast; and numpy and pandas
only when a model runs, so the backend, which runs none with inference processes, never
imports them (`ModelRunner.describe` is what it gets back from a worker: no estimator).

`run_jobs` predicts a batch (the rows of several requests for one model of one release) in one
call and gives each request its own JSON fragment. A call that raises is retried request by
request, so only the request whose rows make the model fail gets the error; a request whose
output holds NaN or infinity gets an error too, never a silent `null`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import numpy as np

Rows = list[tuple[Any, ...]]  # one request's records, each a tuple of values in column order


@dataclass(frozen=True)
class JobFailed:
    """One request's failure inside a batch: the HTTP status and the reason."""

    status: int
    message: str


JobResult = bytes | JobFailed  # bytes: the JSON list of that request's outputs


@dataclass(frozen=True)
class BatchDone:
    """A batch's answers, one per request in order, and the CPU seconds its model calls took
    (the frame and the prediction: `hubship_model_seconds_total`, what the model costs)."""

    results: list[JobResult]
    model_seconds: float


@dataclass(frozen=True)
class ModelRunner:
    name: str
    task: str
    estimator: Any
    columns: list[str] | None  # None: the estimator was fitted without feature names
    classes: list[Any] | None
    class_keys: list[str] | None
    with_probabilities: bool
    unit: str | None

    @classmethod
    def build(cls, name: str, task: str, estimator: Any, *, unit: str | None,
              classes: list[Any] | None) -> ModelRunner:
        """The runner of a fitted `estimator`; `classes`: the manifest's, for a classifier
        that does not name its own."""
        import numpy as np

        fitted_names = getattr(estimator, "feature_names_in_", None)
        columns = [str(c) for c in fitted_names] if fitted_names is not None else None
        class_keys = None
        with_probabilities = False
        if task == "classification":
            fitted_classes = getattr(estimator, "classes_", None)
            classes = (np.asarray(fitted_classes).tolist() if fitted_classes is not None
                       else list(classes or []))
            class_keys = [str(c) for c in classes]
            with_probabilities = (hasattr(estimator, "predict_proba")
                                  and fitted_classes is not None)
        else:
            classes = None
        return cls(name=name, task=task, estimator=estimator, columns=columns, classes=classes,
                   class_keys=class_keys, with_probabilities=with_probabilities, unit=unit)

    def describe(self) -> ModelRunner:
        """This runner without its estimator: what the backend needs to answer (plain
        Python values, sent back from an inference process without numpy)."""
        return replace(self, estimator=None)

    def frame(self, rows: Rows) -> Any:
        if self.columns is None:
            import numpy as np

            return np.asarray(rows, dtype=object)
        import pandas as pd

        return pd.DataFrame(rows, columns=self.columns)

    def raw(self, rows: Rows) -> np.ndarray:
        """The model's numbers for `rows`: probabilities (n x classes) or values/labels (n)."""
        import numpy as np

        features = self.frame(rows)
        if self.task == "classification" and self.with_probabilities:
            raw = np.asarray(self.estimator.predict_proba(features))
        else:
            raw = np.ravel(self.estimator.predict(features))
        if len(raw) != len(rows):  # cut per request, its answers would go to other requests
            raise ValueError(f"it gave {len(raw)} results for {len(rows)} records; one per "
                             "record is expected (a model with several outputs is not served)")
        return raw

    def outputs(self, raw: np.ndarray) -> list[dict[str, Any]]:
        """The answers' shape: {value, unit}, or {label, probabilities}."""
        if self.task == "regression":
            return [{"value": value, "unit": self.unit} for value in raw.tolist()]
        if not self.with_probabilities:
            return [{"label": label, "probabilities": None} for label in raw.tolist()]
        best = raw.argmax(axis=1).tolist()
        keys, classes = self.class_keys, self.classes
        assert keys is not None and classes is not None  # a classifier with probabilities
        return [
            {"label": classes[index], "probabilities": dict(zip(keys, row, strict=True))}
            for index, row in zip(best, raw.tolist(), strict=True)
        ]

    def predict(self, rows: Rows) -> list[dict[str, Any]]:
        return self.outputs(self.raw(rows))


def _not_finite(raw: np.ndarray) -> list[int]:
    """The indices of the rows holding NaN or infinity (numbers only), in order."""
    import numpy as np

    if raw.dtype.kind not in "fc":
        if raw.dtype.kind == "O":  # labels may be numbers
            return [index for index, value in enumerate(raw.tolist())
                    if isinstance(value, float) and not math.isfinite(value)]
        return []
    bad = ~np.isfinite(raw)
    if not bad.any():
        return []
    return np.flatnonzero(bad.reshape(len(raw), -1).any(axis=1)).tolist()


def _not_a_number(runner: ModelRunner, row: int) -> JobFailed:
    return JobFailed(500, f"model {runner.name!r} gave a value that is not a number "
                          f"(NaN or infinity) for record {row}; check that model")


def _answer(runner: ModelRunner, raw: np.ndarray) -> JobResult:
    bad = _not_finite(raw)
    if bad:
        return _not_a_number(runner, bad[0])
    return orjson.dumps(runner.outputs(raw))


def _alone(runner: ModelRunner, raw: Callable[[Rows], np.ndarray], rows: Rows) -> JobResult:
    try:
        return _answer(runner, raw(rows))
    except Exception as exc:  # this request's data makes the model raise
        return JobFailed(500, f"model {runner.name!r} failed: {type(exc).__name__}: {exc}")


def run_jobs(runner: ModelRunner, jobs: list[Rows]) -> BatchDone:
    """One model call for every request's rows; each request's answer or error, in order."""
    spent = 0.0

    def raw(rows: Rows) -> np.ndarray:
        nonlocal spent
        started = time.thread_time()
        try:
            return runner.raw(rows)
        finally:
            spent += time.thread_time() - started

    results = _results(runner, raw, jobs)
    return BatchDone(results, spent)


def _results(runner: ModelRunner, raw: Callable[[Rows], np.ndarray], jobs: list[Rows]
             ) -> list[JobResult]:
    if len(jobs) == 1:
        return [_alone(runner, raw, jobs[0])]
    rows = [row for job in jobs for row in job]
    try:
        batch = raw(rows)
    except Exception:  # some request's rows make the model raise: find it, spare the others
        return [_alone(runner, raw, job) for job in jobs]
    # the answers of the whole batch at once: numpy's per-call cost, paid per job, would cost
    # more than building them
    outputs = runner.outputs(batch)
    bad = _not_finite(batch)
    results: list[JobResult] = []
    start = 0
    for job in jobs:
        end = start + len(job)
        first_bad = next((row for row in bad if start <= row < end), None)
        if first_bad is None:
            results.append(orjson.dumps(outputs[start:end]))
        else:
            results.append(_not_a_number(runner, first_bad - start))
        start = end
    return results
