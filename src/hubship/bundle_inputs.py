"""A model's inputs as `Bundle.add` describes them: the schema inferred from the training
data, adjusted by what the training code declares, and the example record.

- Arrays: `X_train` may be a 2-D numpy array or a scipy sparse matrix; its columns become
  inputs `x0..xN` (or `feature_names`), the holdout set gets the same names, and the manifest
  says `array: true` (the backend builds the array in that order).
- Declared: `text=[...]` (free text, at most `max_text_length` characters), `limits={name:
  (low, high)}` (hard limits: 422 outside; the training range alone only warns), and
  `accept_unknown=[...]` (categories whose unseen values the model takes).
- Detected: a category the model's own encoder takes unseen values of (`OneHotEncoder(
  handle_unknown="ignore" | "infrequent_if_exist")`, `OrdinalEncoder(handle_unknown=
  "use_encoded_value")`, inside a Pipeline or ColumnTransformer) accepts unknown values too.

Each decision that is not obvious (a column inferred as text, categories found open) is
returned as a note, which `Bundle.add` prints, so the training log says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hubship import schema
from hubship.bundle_checks import Problem
from hubship.manifest import InputSpec, Scalar


@dataclass(frozen=True)
class Declared:
    """What the training code says about the inputs (Bundle.add's keyword arguments)."""

    text: Sequence[str] = ()
    max_text_length: int = 10_000
    limits: Mapping[str, tuple[float | None, float | None]] | None = None
    accept_unknown: Sequence[str] = ()


@dataclass(frozen=True)
class Described:
    inputs: list[InputSpec]
    example: dict[str, Scalar | None]
    notes: list[str]


def is_array(X: Any) -> bool:
    return isinstance(X, np.ndarray) or hasattr(X, "tocsr")  # scipy.sparse matrices and arrays


def as_frames(X_train: Any, X_holdout: Any, feature_names: Sequence[str] | None
              ) -> tuple[Any, Any, bool]:
    """(X_train, X_holdout, array): arrays as DataFrames with the inputs' names."""
    if not is_array(X_train):
        if feature_names is not None:
            raise Problem("feature_names is for a model trained on an array",
                          "name a DataFrame's inputs by its columns; drop feature_names")
        return X_train, X_holdout, False
    if not is_array(X_holdout):
        raise Problem(f"X_train is an array but X_holdout is a {type(X_holdout).__name__}",
                      "pass the holdout rows as an array too")
    frames = []
    for label, X in (("X_train", X_train), ("X_holdout", X_holdout)):
        dense = X.toarray() if hasattr(X, "toarray") else X
        if dense.ndim != 2:
            raise Problem(f"{label} is a {dense.ndim}-D array", "pass a 2-D array: rows x inputs")
        if dense.dtype.kind not in "biuf":
            raise Problem(f"{label} is an array of {dense.dtype}, not of numbers",
                          "pass a DataFrame to mix text and numbers, or convert to numbers")
        frames.append(dense)
    width = frames[0].shape[1]
    names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(width)]
    if len(names) != width:
        raise Problem(f"feature_names has {len(names)} names for {width} columns",
                      "give one name per column of X_train")
    train, holdout = (pd.DataFrame(frame, columns=names) for frame in frames)
    if holdout.shape[1] != width:
        raise Problem(f"X_holdout has {holdout.shape[1]} columns, X_train {width}",
                      "split features together")
    return train, holdout, True


def describe(model: Any, X_train: pd.DataFrame, declared: Declared) -> Described:
    """The inputs (inferred, then declared) and the example record; Problem naming a column."""
    try:
        inputs = schema.infer_inputs(X_train)
    except ValueError as exc:
        raise Problem(f"X_train: {exc}", "fix the training frame's columns") from None
    names = [spec.name for spec in inputs]
    for label, given in (("text", declared.text), ("accept_unknown", declared.accept_unknown),
                         ("limits", list(declared.limits or {}))):
        unknown = [name for name in given if name not in names]
        if unknown:
            raise Problem(f"{label} names {unknown}, which are not columns of X_train",
                          f"name inputs among {names}")
    open_columns = set(declared.accept_unknown) | handles_unknown(model, names)
    notes, described = [], []
    for spec in inputs:
        column = X_train[spec.name]
        try:
            if spec.type == "text" and spec.name not in declared.text:
                notes.append(f"input {spec.name!r} is text ({column.nunique()} distinct of "
                             f"{column.count()} values): a free text up to "
                             f"{declared.max_text_length} characters, not a category "
                             "(mostly unique values)")
            if spec.type == "text" or spec.name in declared.text:
                spec = schema.declare_text(spec, column, declared.max_text_length)
            if declared.limits and spec.name in declared.limits:
                spec = _limited(spec, column, declared.limits[spec.name])
        except ValueError as exc:
            raise Problem(str(exc), "fix the declaration in Bundle.add") from None
        if spec.type == "category" and spec.name in open_columns:
            spec = spec.model_copy(update={"accepts_unknown": True})
            notes.append(f"input {spec.name!r} takes values not seen in training (with a "
                         "warning): the model's encoder ignores them")
        described.append(spec)
    return Described(described, schema.example_record(X_train, described), notes)


def _limited(spec: InputSpec, column: pd.Series, bounds: Any) -> InputSpec:
    try:
        low, high = bounds
    except (TypeError, ValueError):
        raise ValueError(f"limits[{spec.name!r}] must be a (low, high) pair, e.g. (0, 130); "
                         "None for no bound on one side") from None
    spec = schema.declare_limits(spec, low, high)
    outside = column.dropna()
    outside = outside[((outside < low) if low is not None else False)
                      | ((outside > high) if high is not None else False)]
    if len(outside):
        raise ValueError(f"X_train's {spec.name!r} holds {len(outside)} values outside the "
                         f"declared limits ({low}, {high}), e.g. {outside.iloc[0]}; widen the "
                         "limits or clean the data")
    return spec


def handles_unknown(model: Any, names: Sequence[str]) -> set[str]:
    """The input columns whose unseen values the model's encoders take (see the module doc)."""
    found: set[str] = set()
    _walk(model, list(names), found)
    return found


def _walk(step: Any, columns: list[str], found: set[str]) -> None:
    if _open_encoder(step):
        found.update(columns)
        return
    for _name, inner in getattr(step, "steps", None) or ():
        # a Pipeline: steps before the first encoder or ColumnTransformer (imputers, ...)
        # keep the columns as they are
        if _open_encoder(inner) or hasattr(inner, "transformers_"):
            _walk(inner, columns, found)
            return
        if "Encoder" in type(inner).__name__ or not hasattr(inner, "transform"):
            return
    for _name, transformer, selected in getattr(step, "transformers_", ()):
        _walk(transformer, _selected(selected, columns), found)


def _selected(selected: Any, columns: list[str]) -> list[str]:
    """A ColumnTransformer's column selection as names (names, positions or a mask)."""
    if isinstance(selected, str):
        return [selected] if selected in columns else []
    if isinstance(selected, slice) or callable(selected):
        return []  # unusual: the columns stay closed (declare accept_unknown instead)
    picked: Iterable[Any] = list(selected)
    result = []
    for index, item in enumerate(picked):
        if isinstance(item, bool | np.bool_):
            if item and index < len(columns):
                result.append(columns[index])
        elif isinstance(item, int | np.integer) and 0 <= item < len(columns):
            result.append(columns[int(item)])
        elif isinstance(item, str) and item in columns:
            result.append(item)
    return result


def _open_encoder(step: Any) -> bool:
    kind = type(step).__name__
    unknown = getattr(step, "handle_unknown", None)
    return ((kind == "OneHotEncoder" and unknown in ("ignore", "infrequent_if_exist"))
            or (kind == "OrdinalEncoder" and unknown == "use_encoded_value"))
