"""Scoring: every metric hubship can compute, by name, with its direction (the registry).

Training (`hubship.bundle`) records metrics with it, and the gate scores a champion and a
challenger on a holdout set with the very same functions, so the numbers always compare.

    compute_metrics("classification", model, X, y)   -> {"accuracy": ..., "f1_macro": ..., ...}
    score(model, X, y, task="regression", metric_name="mae")  -> 12.3
    METRICS["mae"].higher_is_better                   -> False

Unknown names or a metric of the other task raise `ValueError` with the names that exist.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sklearn import metrics as skm

from hubship.manifest import Task

# scorer(y_true, predictions, probabilities, classes) -> value
_Scorer = Callable[[Any, Any, Any, Any], float]


@dataclass(frozen=True)
class Metric:
    name: str
    task: Task
    higher_is_better: bool
    description: str
    needs_proba: bool
    scorer: _Scorer

    def __call__(self, y_true: Any, predictions: Any, probabilities: Any, classes: Any) -> float:
        return float(self.scorer(y_true, predictions, probabilities, classes))


def _metric(name: str, task: Task, higher_is_better: bool, description: str, scorer: _Scorer,
            *, needs_proba: bool = False) -> Metric:
    return Metric(name, task, higher_is_better, description, needs_proba, scorer)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        _metric("accuracy", "classification", True, "share of correct predictions",
                lambda y, p, _proba, _c: skm.accuracy_score(y, p)),
        _metric("balanced_accuracy", "classification", True, "mean recall over classes",
                lambda y, p, _proba, _c: skm.balanced_accuracy_score(y, p)),
        _metric("f1_macro", "classification", True, "F1 averaged over classes (macro)",
                lambda y, p, _proba, c: skm.f1_score(y, p, labels=c, average="macro",
                                                     zero_division=0)),
        _metric("log_loss", "classification", False, "cross-entropy of predicted probabilities",
                lambda y, _p, proba, c: skm.log_loss(y, proba, labels=c), needs_proba=True),
        _metric("mae", "regression", False, "mean absolute error",
                lambda y, p, _proba, _c: skm.mean_absolute_error(y, p)),
        _metric("rmse", "regression", False, "root mean squared error",
                lambda y, p, _proba, _c: skm.root_mean_squared_error(y, p)),
        _metric("r2", "regression", True, "coefficient of determination (R²)",
                lambda y, p, _proba, _c: skm.r2_score(y, p)),
    )
}

DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "f1_macro", "log_loss"),
    "regression": ("mae", "rmse", "r2"),
}


def names_for(task: Task) -> list[str]:
    return [name for name, metric in METRICS.items() if metric.task == task]


def get_metric(name: str, *, task: Task) -> Metric:
    """The metric called `name`, checked to belong to `task`."""
    metric = METRICS.get(name)
    if metric is None or metric.task != task:
        raise ValueError(
            f"unknown {task} metric {name!r}; choose from {', '.join(names_for(task))}"
        )
    return metric


def default_metrics(task: Task, model: Any) -> list[str]:
    """The task's default metrics; those needing probabilities only if the model gives them."""
    return [
        name for name in DEFAULT_METRICS[task]
        if not METRICS[name].needs_proba or hasattr(model, "predict_proba")
    ]


def compute_metrics(
    task: Task, model: Any, X: Any, y: Any, *, names: Sequence[str] | None = None
) -> dict[str, float]:
    """Score `model` on (X, y) with each metric in `names` (default: the task's defaults).

    Predicts once and shares the predictions between metrics.
    """
    chosen = [get_metric(n, task=task) for n in (names or default_metrics(task, model))]
    classes = getattr(model, "classes_", None)
    predictions = model.predict(X)
    probabilities = None
    if any(m.needs_proba for m in chosen):
        if not hasattr(model, "predict_proba"):
            needing = [m.name for m in chosen if m.needs_proba]
            raise ValueError(f"{', '.join(needing)} needs predict_proba, which the model lacks")
        probabilities = model.predict_proba(X)
    values = {m.name: m(y, predictions, probabilities, classes) for m in chosen}
    broken = {name: value for name, value in values.items() if not math.isfinite(value)}
    if broken:
        raise ValueError(f"metrics are not finite numbers: {broken}")
    return values


def score(model: Any, X: Any, y: Any, *, task: Task, metric_name: str) -> float:
    """One metric of `model` on (X, y)."""
    return compute_metrics(task, model, X, y, names=[metric_name])[metric_name]

