"""Per-model prediction, prepared once per release so a request does only the necessary work.

Per request: validate JSON bytes with a prebuilt TypeAdapter, build a one-row DataFrame from a
precomputed column order, one `predict_proba` (the label is its argmax, so the model runs once),
and plain Python lists for the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from operator import attrgetter
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from hubship.errors import ManifestError
from hubship.loader import LoadedModel, ModelSet
from hubship.serving.schemas import RequestLimits, RequestParser


@dataclass(frozen=True)
class Predictor:
    name: str
    task: str
    estimator: Any
    parser: RequestParser
    columns: list[str] | None  # None: the estimator was fitted without feature names
    row: Any  # record -> values in column order
    classes: list[Any] | None
    class_keys: list[str] | None
    with_probabilities: bool
    unit: str | None

    def frame(self, records: list[BaseModel]) -> Any:
        rows = [self.row(record) for record in records]
        if self.columns is None:
            return np.asarray(rows, dtype=object)
        return pd.DataFrame(rows, columns=self.columns)

    def predict(self, records: list[BaseModel]) -> list[dict[str, Any]]:
        features = self.frame(records)
        if self.task == "regression":
            values = np.ravel(self.estimator.predict(features)).tolist()
            return [{"value": value, "unit": self.unit} for value in values]
        if not self.with_probabilities:
            labels = np.ravel(self.estimator.predict(features)).tolist()
            return [{"label": label, "probabilities": None} for label in labels]
        probabilities = self.estimator.predict_proba(features)
        best = probabilities.argmax(axis=1).tolist()
        keys, classes = self.class_keys, self.classes
        return [
            {"label": classes[index], "probabilities": dict(zip(keys, row, strict=True))}
            for index, row in zip(best, probabilities.tolist(), strict=True)
        ]


def _row_getter(positions: list[int]) -> Any:
    getter = attrgetter(*(f"f{p}" for p in positions))
    if len(positions) == 1:
        return lambda record: (getter(record),)
    return getter


def build_predictor(model: LoadedModel, limits: RequestLimits | None = None) -> Predictor:
    entry, estimator = model.entry, model.estimator
    names = [spec.name for spec in entry.inputs]
    fitted_names = getattr(estimator, "feature_names_in_", None)
    columns = [str(c) for c in fitted_names] if fitted_names is not None else None
    order = columns if columns is not None else names
    missing = [c for c in order if c not in names]
    if missing:
        raise ManifestError(
            f"model {model.name!r} was fitted on {missing}, which its manifest inputs lack",
            hint="re-run training so the manifest's inputs match the model's features",
        )
    classes = class_keys = None
    with_probabilities = False
    if entry.task == "classification":
        fitted_classes = getattr(estimator, "classes_", None)
        classes = (np.asarray(fitted_classes).tolist() if fitted_classes is not None
                   else list(entry.output.classes or []))
        class_keys = [str(c) for c in classes]
        with_probabilities = hasattr(estimator, "predict_proba") and fitted_classes is not None
    return Predictor(
        name=model.name, task=entry.task, estimator=estimator,
        parser=RequestParser(model.name, entry, limits), columns=columns,
        row=_row_getter([names.index(c) for c in order]), classes=classes,
        class_keys=class_keys, with_probabilities=with_probabilities, unit=entry.output.unit,
    )


def build_predictors(model_set: ModelSet, limits: RequestLimits | None = None
                     ) -> Mapping[str, Predictor]:
    return MappingProxyType({name: build_predictor(m, limits)
                             for name, m in model_set.models.items()})
