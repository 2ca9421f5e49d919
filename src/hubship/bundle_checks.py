"""Checks on what `Bundle.add` is given: fitted model, matching frames, target, metrics.

Each check raises `Problem` (what is wrong, and how to fix it); `Bundle.add` turns it into a
`BundleError` naming the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from hubship import scoring
from hubship.manifest import Task


class Problem(Exception):
    """One thing wrong with a model being added; `add` turns it into a BundleError."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def check_fitted(model: Any, task: Task) -> None:
    from sklearn.base import is_classifier, is_regressor
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise Problem("the model is not fitted", "call model.fit(X_train, y_train) first") \
            from None
    except TypeError:
        raise Problem(f"{type(model).__name__} is not a scikit-learn estimator",
                      "pass a fitted scikit-learn estimator or Pipeline") from None
    if task == "classification" and is_regressor(model):
        raise Problem("task is 'classification' but the model is a regressor",
                      "use task='regression' or a classifier")
    if task == "regression" and is_classifier(model):
        raise Problem("task is 'regression' but the model is a classifier",
                      "use task='classification' or a regressor")


def check_frames(model: Any, X_train: Any, X_holdout: Any, y_holdout: Any) -> pd.DataFrame:
    """Frames non-empty and matching; returns X_holdout in the training column order."""
    for label, frame in (("X_train", X_train), ("X_holdout", X_holdout)):
        if not isinstance(frame, pd.DataFrame):
            raise Problem(f"{label} is a {type(frame).__name__}, not a pandas DataFrame",
                          "pass DataFrames, so every input has a column name")
        if frame.empty:
            raise Problem(f"{label} is empty ({frame.shape[0]} rows, {frame.shape[1]} columns)",
                          "check the data loading and the split")
    if not isinstance(y_holdout, pd.Series):
        raise Problem(f"y_holdout is a {type(y_holdout).__name__}, not a pandas Series",
                      "pass the target column, e.g. df['species']")
    if len(y_holdout) != len(X_holdout):
        raise Problem(f"y_holdout has {len(y_holdout)} rows but X_holdout {len(X_holdout)}",
                      "split features and target together")
    if y_holdout.isna().any():
        raise Problem(f"y_holdout has {int(y_holdout.isna().sum())} missing values",
                      "drop rows with a missing target before splitting")
    train_cols, holdout_cols = list(X_train.columns), list(X_holdout.columns)
    if len(set(train_cols)) != len(train_cols):
        raise Problem("X_train has repeated column names", "give every column its own name")
    if set(holdout_cols) != set(train_cols):
        extra = sorted(map(str, set(holdout_cols) - set(train_cols)))
        missing = sorted(map(str, set(train_cols) - set(holdout_cols)))
        raise Problem(
            "X_holdout's columns differ from X_train's: "
            f"not trained on {extra or 'none'}, missing {missing or 'none'}",
            "select the same feature columns for training and holdout",
        )
    trained_on = getattr(model, "feature_names_in_", None)
    if trained_on is not None and list(trained_on) != train_cols:
        raise Problem(
            f"the model was fitted on columns {list(trained_on)}, X_train has {train_cols}",
            "pass the exact frame the model was fitted on as X_train",
        )
    in_training_order: pd.DataFrame = X_holdout[train_cols]  # X_holdout is a DataFrame (above)
    return in_training_order


def check_target(task: Task, model: Any, X_train: pd.DataFrame, y_holdout: pd.Series) -> str:
    target = y_holdout.name
    if not isinstance(target, str) or not target:
        raise Problem("y_holdout has no name, so the target column cannot be named",
                      "pass a named Series, e.g. df['species'] or y.rename('species')")
    if target in X_train.columns:
        raise Problem(f"the target {target!r} is also an input column",
                      "drop the target from the feature columns")
    if task != "classification":
        if not pd.api.types.is_numeric_dtype(y_holdout) or pd.api.types.is_bool_dtype(y_holdout):
            raise Problem(f"a regression target must be numeric, {target!r} is {y_holdout.dtype}",
                          "use task='classification' for labels")
        return target
    classes = list(getattr(model, "classes_", []))
    if len(classes) < 2:
        raise Problem(f"the classification target has {len(classes)} class(es): {classes}",
                      "a classifier needs at least two classes in its training target")
    seen = set(y_holdout.unique())
    if len(seen) < 2:
        raise Problem(f"the holdout target has only one class: {sorted(map(str, seen))}",
                      "split with stratify=y so the holdout holds every class")
    unknown = seen - set(classes)
    if unknown:
        raise Problem(f"the holdout has classes the model never saw: {sorted(map(str, unknown))}",
                      "split with stratify=y so training sees every class")
    return target


def check_metrics(task: Task, model: Any, names: Sequence[str] | None, primary: str,
                   tolerance: float) -> list[str]:
    chosen = list(names) if names is not None else scoring.default_metrics(task, model)
    if not chosen:
        raise Problem("no metrics asked for", "leave metrics=None for the task's defaults")
    for name in [*chosen, primary]:
        try:
            metric = scoring.get_metric(name, task=task)
        except ValueError as exc:
            raise Problem(str(exc), "pick a metric from the list") from None
        if metric.needs_proba and not hasattr(model, "predict_proba"):
            raise Problem(f"metric {name!r} needs predict_proba, which the model lacks",
                          "drop it from metrics or use a model with predict_proba")
    if primary not in chosen:
        raise Problem(f"primary metric {primary!r} is not among the metrics {chosen}",
                      "add it to metrics, or leave metrics=None")
    if len(set(chosen)) != len(chosen):
        raise Problem(f"metrics repeat: {chosen}", "list each metric once")
    if not isinstance(tolerance, int | float) or not 0 <= tolerance < float("inf"):
        raise Problem(f"tolerance must be a number >= 0, got {tolerance!r}",
                      "give the tolerance in the primary metric's units, e.g. 0.01")
    return chosen
