"""Input and output schemas inferred from the training data.

The backend builds its request models and the frontend its form from these, so a column's
type comes from its pandas dtype (what the model was trained on), never from guessing at
values: a float column stays `number` even when every value happens to be whole.

    bool                          -> boolean
    integer (int64, Int64, ...)   -> integer, with min and max
    float                         -> number, with min and max
    str, object, category         -> category, with its sorted distinct values
                                     (an object column holding only True/False is boolean)
    str, object, mostly unique    -> text (free text: a review, a ticket), with max_length
                                     (more than TEXT_MIN_DISTINCT distinct values, and more
                                     than half the column's values distinct), or declared

`nullable` is true when the training column has any missing value. `min`/`max` are the
training range: the backend warns outside it, and refuses only past the `limit_min`/
`limit_max` the training code declares. Problems raise `ValueError` naming the column;
`hubship.bundle` adds the model's name.

`example_record` is the model's typical record (medians of numbers, modes of the rest): the
backend shows it in the OpenAPI document and the frontend pre-fills its form with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from hubship.manifest import DEFAULT_MAX_TEXT, InputSpec, InputType, OutputSpec, Scalar, Task

TEXT_MIN_DISTINCT = 20


def to_native(value: Any) -> Any:
    """A numpy/pandas scalar as the plain Python value JSON can hold."""
    return value.item() if isinstance(value, np.generic) else value


def _sorted_values(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:  # mixed types (e.g. 1 and "a"): order by text, stable across runs
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def _bounds(column: pd.Series) -> tuple[float | None, float | None]:
    present = column.dropna()
    if present.empty:
        return None, None
    return float(present.min()), float(present.max())


def infer_input(name: str, column: pd.Series) -> InputSpec:
    """The InputSpec of one training column."""
    dtype = column.dtype
    nullable = bool(column.isna().any())
    present = column.dropna()
    if ptypes.is_bool_dtype(dtype):
        return InputSpec(name=name, type="boolean", nullable=nullable)
    if ptypes.is_integer_dtype(dtype) or ptypes.is_float_dtype(dtype):
        kind: InputType = "integer" if ptypes.is_integer_dtype(dtype) else "number"
        low, high = _bounds(column)
        if low is not None and high is not None and not (np.isfinite(low) and np.isfinite(high)):
            raise ValueError(f"column {name!r} holds infinite values; replace them with NaN")
        return InputSpec(name=name, type=kind, nullable=nullable, min=low, max=high)
    if isinstance(dtype, pd.CategoricalDtype) or ptypes.is_string_dtype(dtype) \
            or ptypes.is_object_dtype(dtype):
        odd = sorted({type(v).__name__ for v in present
                      if not isinstance(v, str | int | float | bool | np.generic)})
        if odd:
            raise ValueError(
                f"column {name!r} holds values of type {', '.join(odd)}; "
                "only text, numbers and booleans can be model inputs"
            )
        values = [to_native(v) for v in present.unique()]
        if not values:
            raise ValueError(f"column {name!r} has no values at all in the training data")
        if all(isinstance(v, bool) for v in values):
            return InputSpec(name=name, type="boolean", nullable=nullable)
        if looks_like_text(present, len(values)):
            return InputSpec(name=name, type="text", nullable=nullable,
                             max_length=DEFAULT_MAX_TEXT)
        return InputSpec(name=name, type="category", nullable=nullable,
                         values=_sorted_values(values))
    raise ValueError(
        f"column {name!r} has dtype {dtype}, which hubship cannot describe as an input; "
        "convert it to numbers, text or booleans before training"
    )


def looks_like_text(present: pd.Series, distinct: int) -> bool:
    """Free text rather than a category: strings, mostly unique (see the module doc)."""
    return (distinct > TEXT_MIN_DISTINCT and distinct * 2 > len(present)
            and all(isinstance(v, str) for v in present.head(1000)))


def infer_inputs(frame: pd.DataFrame) -> list[InputSpec]:
    """One InputSpec per column of the training frame, in column order."""
    bad = [c for c in frame.columns if not isinstance(c, str) or not c]
    if bad:
        raise ValueError(f"column names must be non-empty text, got {bad!r}")
    return [infer_input(name, frame[name]) for name in frame.columns]


def declare_text(spec: InputSpec, column: pd.Series, max_length: int) -> InputSpec:
    """`spec` as a text input of at most `max_length` characters (Bundle.add(text=...))."""
    present = column.dropna()
    if not all(isinstance(v, str) for v in present):
        raise ValueError(f"column {spec.name!r} is declared text but holds values that are "
                         "not strings; convert it with .astype(str) or leave it out of text=")
    longest = int(present.str.len().max()) if len(present) else 0
    if longest > max_length:
        raise ValueError(f"column {spec.name!r} has a training text of {longest} characters, "
                         f"longer than max_text_length={max_length}; raise max_text_length")
    return InputSpec(name=spec.name, type="text", nullable=spec.nullable, max_length=max_length)


def declare_limits(spec: InputSpec, low: float | None, high: float | None) -> InputSpec:
    """`spec` with hard limits (Bundle.add(limits=...)): values outside them are refused."""
    if spec.type not in ("number", "integer"):
        raise ValueError(f"limits given for {spec.name!r}, which is a {spec.type}, not a number")
    return spec.model_copy(update={"limit_min": low, "limit_max": high})


def example_record(frame: pd.DataFrame, inputs: list[InputSpec]) -> dict[str, Scalar | None]:
    """A typical record: the median of each number (rounded for integers), the most common
    value of the rest (the first in order on a tie); None for a column with no value."""
    example: dict[str, Scalar | None] = {}
    for spec in inputs:
        present = frame[spec.name].dropna()
        if present.empty:
            example[spec.name] = None
        elif spec.type in ("number", "integer"):
            median = float(present.median())
            example[spec.name] = int(round(median)) if spec.type == "integer" else median
        else:
            counts = present.map(to_native).value_counts(sort=False)
            top = counts[counts == counts.max()].index.tolist()
            example[spec.name] = to_native(_sorted_values(top)[0])
    return example


def infer_output(task: Task, model: Any, target: str, *, unit: str | None = None) -> OutputSpec:
    """The output: the model's classes for classification, the target's name (and unit) always."""
    if task == "regression":
        return OutputSpec(target=target, unit=unit)
    classes = getattr(model, "classes_", None)
    if classes is None:
        raise ValueError("a classification model must have classes_ once fitted")
    return OutputSpec(target=target, classes=[to_native(c) for c in classes], unit=unit)
