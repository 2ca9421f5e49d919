"""Per-model prediction, prepared once per release so a request does only the necessary work.

Per request, on the event loop: validate JSON bytes with a prebuilt TypeAdapter and turn each
record into a tuple of values in the model's column order (`rows`). The model itself runs in
an inference worker (`engine`), through the predictor's `runner`: one DataFrame and one
`predict_proba` per batch (the label is its argmax, so the model runs once).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from hubship.errors import ManifestError
from hubship.loader import LoadedModel, ModelSet
from hubship.serving.input_warnings import InputWatch
from hubship.serving.runner import ModelRunner, Rows
from hubship.serving.schemas import RequestLimits, RequestParser


@dataclass(frozen=True)
class Predictor:
    name: str
    parser: RequestParser
    row: Any  # record -> values in column order
    watch: InputWatch  # warnings for values outside what training saw
    runner: ModelRunner  # what an inference worker runs (with processes, without its estimator)

    @property
    def estimator(self) -> Any:
        """The fitted model, when this process unpickled it (a thread worker); else None."""
        return self.runner.estimator

    def rows(self, records: list[BaseModel]) -> Rows:
        return [self.row(record) for record in records]

    def predict(self, records: list[BaseModel]) -> list[dict[str, Any]]:
        """Predict in this thread (the server predicts through `engine`; tests compare)."""
        return self.runner.predict(self.rows(records))


def _row_getter(positions: list[int]) -> Any:
    getter = attrgetter(*(f"f{p}" for p in positions))
    if len(positions) == 1:
        return lambda record: (getter(record),)
    return getter


def build_predictor(model: LoadedModel, limits: RequestLimits | None = None,
                    described: ModelRunner | None = None) -> Predictor:
    """`described`: the model as an inference process loaded it (`ModelRunner.describe`),
    when the backend did not unpickle it itself."""
    entry = model.entry
    runner = described or ModelRunner.build(model.name, entry.task, model.estimator,
                                            unit=entry.output.unit, classes=entry.output.classes)
    names = [spec.name for spec in entry.inputs]
    columns = runner.columns
    order = columns if columns is not None else names
    missing = [c for c in order if c not in names]
    if missing:
        raise ManifestError(
            f"model {model.name!r} was fitted on {missing}, which its manifest inputs lack",
            hint="re-run training so the manifest's inputs match the model's features",
        )
    return Predictor(
        name=model.name, parser=RequestParser(model.name, entry, limits),
        row=_row_getter([names.index(c) for c in order]), watch=InputWatch.build(entry),
        runner=runner,
    )


def build_predictors(model_set: ModelSet, limits: RequestLimits | None = None,
                     described: Mapping[str, ModelRunner] | None = None
                     ) -> Mapping[str, Predictor]:
    return MappingProxyType({name: build_predictor(m, limits, (described or {}).get(name))
                             for name, m in model_set.models.items()})
