"""Save trained models as one release: what `models/train.py` calls.

    bundle = Bundle(ASSETS_DIR, data_files=[DATA])
    bundle.add("species", pipeline, X_train=X_train, X_holdout=X_test, y_holdout=y_test,
               task="classification", primary_metric="f1_macro")
    bundle.save()   # -> Manifest; ASSETS_DIR now holds the release, whole

`add` checks everything at once (fitted model, matching columns, targets, metric names) and
raises `BundleError` naming the model; it infers the input schema from the training frame and
computes the metrics itself on the holdout set as it will be saved, so the manifest's numbers
are exactly what anyone re-scoring the release gets. `save` writes the release into a fresh
folder beside `out_dir` and swaps it in with renames, so `out_dir` is never half-written and
a failure leaves the previous release as it was.

Same inputs give the same bytes: the pickled model and the parquet holdout set depend only on
the fitted model and the data; only `created_at` in the manifest changes between runs (set
SOURCE_DATE_EPOCH to pin it too).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from hubship import holdout, provenance, schema
from hubship import metrics as metric_registry  # `add` has a parameter called `metrics`
from hubship.errors import BundleError
from hubship.manifest import (
    MANIFEST_FILE,
    FileRef,
    Manifest,
    ModelEntry,
    PrimaryMetric,
    Source,
    Task,
)

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
TASKS: tuple[Task, ...] = ("classification", "regression")


@dataclass(frozen=True)
class _Staged:
    entry: ModelEntry
    model_bytes: bytes
    holdout_bytes: bytes


def _ref(file: str, content: bytes) -> FileRef:
    return FileRef(file=file, sha256=hashlib.sha256(content).hexdigest(), size=len(content))


def _estimator_name(model: Any) -> str:
    def path(obj: Any) -> str:
        return f"{type(obj).__module__}.{type(obj).__qualname__}"

    steps = getattr(model, "steps", None)
    if steps:  # a Pipeline: name the estimator that predicts, too
        return f"{path(model)}[{path(steps[-1][1])}]"
    return path(model)


class Bundle:
    """The models of one release, checked as they are added and written by `save`."""

    def __init__(
        self,
        out_dir: Path,
        *,
        data_files: Sequence[Path] = (),
        source: Source | None = None,
        repo_root: Path | None = None,
    ) -> None:
        self.out_dir = Path(out_dir).resolve()
        self.data_files = [Path(f).resolve() for f in data_files]
        missing = [str(f) for f in self.data_files if not f.is_file()]
        if missing:
            raise BundleError(
                f"data files not found: {', '.join(missing)}",
                hint="pass the paths of the files the training read (data_files=[...])",
            )
        self.source = source
        self.repo_root = Path(repo_root).resolve() if repo_root else None
        self._staged: dict[str, _Staged] = {}

    @property
    def entries(self) -> dict[str, ModelEntry]:
        return {name: staged.entry for name, staged in self._staged.items()}

    # ---- adding models -------------------------------------------------------------------

    def add(
        self,
        name: str,
        model: Any,
        *,
        X_train: pd.DataFrame,
        X_holdout: pd.DataFrame,
        y_holdout: pd.Series,
        task: Task,
        primary_metric: str,
        tolerance: float = 0.0,
        metrics: Sequence[str] | None = None,
        unit: str | None = None,
    ) -> ModelEntry:
        """Check and stage one fitted model; raises BundleError naming the model and problem."""
        if not isinstance(name, str) or not MODEL_NAME.match(name):
            raise BundleError(
                f"invalid model name {name!r}",
                hint="use 1-64 letters, digits, '-' and '_', starting with a letter or digit",
            )
        if name in self._staged:
            raise BundleError(
                f"model {name!r} was already added to this bundle",
                hint="give every model its own name",
            )
        try:
            staged = self._stage(
                name, model, X_train=X_train, X_holdout=X_holdout, y_holdout=y_holdout,
                task=task, primary_metric=primary_metric, tolerance=tolerance,
                metric_names=metrics, unit=unit,
            )
        except _Problem as problem:
            raise BundleError(f"model {name!r}: {problem.message}", hint=problem.hint) from None
        self._staged[name] = staged
        return staged.entry

    def _stage(
        self, name: str, model: Any, *, X_train: Any, X_holdout: Any, y_holdout: Any,
        task: str, primary_metric: str, tolerance: float, metric_names: Sequence[str] | None,
        unit: str | None,
    ) -> _Staged:
        if task not in TASKS:
            raise _Problem(f"unknown task {task!r}", "use task='classification' or 'regression'")
        _check_fitted(model, task)
        X_holdout = _check_frames(model, X_train, X_holdout, y_holdout)
        target = _check_target(task, model, X_train, y_holdout)
        names = _check_metrics(task, model, metric_names, primary_metric, tolerance)

        try:
            inputs = schema.infer_inputs(X_train)
            output = schema.infer_output(task, model, target, unit=unit)
        except ValueError as exc:
            raise _Problem(f"X_train: {exc}", "fix the training frame's columns") from None

        model_bytes = _pickle(model)
        holdout_bytes = holdout.holdout_bytes(X_holdout, y_holdout, target=target)
        # Score on the holdout exactly as saved: the numbers anyone re-scoring will get.
        X_saved, y_saved = holdout.read_holdout_bytes(holdout_bytes, target=target)
        try:
            values = metric_registry.compute_metrics(task, model, X_saved, y_saved, names=names)
        except ValueError as exc:
            raise _Problem(f"scoring the holdout set failed: {exc}",
                           "check the holdout set matches what the model was trained on") from None
        try:
            entry = ModelEntry(
                file=f"models/{name}.joblib",
                sha256=hashlib.sha256(model_bytes).hexdigest(),
                size=len(model_bytes),
                task=task,
                estimator=_estimator_name(model),
                inputs=inputs,
                output=output,
                metrics=values,
                primary_metric=PrimaryMetric(
                    name=primary_metric,
                    higher_is_better=metric_registry.METRICS[primary_metric].higher_is_better,
                    tolerance=tolerance,
                ),
                holdout=_ref(f"holdout/{name}.parquet", holdout_bytes),
            )
        except ValidationError as exc:
            raise _Problem(f"does not make a valid manifest entry: {exc}",
                           "report this as a hubship bug") from None
        return _Staged(entry, model_bytes, holdout_bytes)

    # ---- saving --------------------------------------------------------------------------

    def manifest(self) -> Manifest:
        """The manifest `save` writes (release stays None: the publisher numbers releases)."""
        if not self._staged:
            raise BundleError("the bundle holds no models", hint="call bundle.add(...) first")
        root = self.repo_root or provenance.repo_root(
            self.data_files[0] if self.data_files else Path.cwd()
        )
        try:
            data = provenance.data_hashes(self.data_files, root or Path.cwd())
        except FileNotFoundError as exc:
            raise BundleError(str(exc), hint="keep the data files until save() is done") from None
        return Manifest(
            created_at=provenance.created_at(),
            source=self.source or provenance.git_source(root),
            data=data,
            environment=provenance.environment(),
            models=self.entries,
        )

    def save(self) -> Manifest:
        """Write the release to `out_dir` in one swap; on any error `out_dir` is unchanged."""
        manifest = self.manifest()
        _check_replaceable(self.out_dir)
        try:
            self.out_dir.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.new-",
                                            dir=self.out_dir.parent))
        except OSError as exc:
            raise BundleError(f"cannot create a folder beside {self.out_dir}: {exc}",
                              hint="check the path and its permissions") from None
        try:
            self._write(staging, manifest)
            Manifest.read(staging).verify_files(staging)
            _swap_into_place(staging, self.out_dir)
        except OSError as exc:
            raise BundleError(
                f"could not write the release to {self.out_dir}: {exc}",
                hint="free disk space or fix permissions; the previous release is untouched",
            ) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return manifest

    def _write(self, folder: Path, manifest: Manifest) -> None:
        os.chmod(folder, 0o755)  # mkdtemp makes it private; a release is ordinary files
        for staged in self._staged.values():
            for relative, content in (
                (staged.entry.file, staged.model_bytes),
                (staged.entry.holdout.file, staged.holdout_bytes),
            ):
                path = folder / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        manifest.write(folder)



class _Problem(Exception):
    """One thing wrong with a model being added; `add` turns it into a BundleError."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _check_fitted(model: Any, task: str) -> None:
    from sklearn.base import is_classifier, is_regressor
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise _Problem("the model is not fitted", "call model.fit(X_train, y_train) first") \
            from None
    except TypeError:
        raise _Problem(f"{type(model).__name__} is not a scikit-learn estimator",
                       "pass a fitted scikit-learn estimator or Pipeline") from None
    if task == "classification" and is_regressor(model):
        raise _Problem("task is 'classification' but the model is a regressor",
                       "use task='regression' or a classifier")
    if task == "regression" and is_classifier(model):
        raise _Problem("task is 'regression' but the model is a classifier",
                       "use task='classification' or a regressor")


def _check_frames(model: Any, X_train: Any, X_holdout: Any, y_holdout: Any) -> pd.DataFrame:
    """Frames non-empty and matching; returns X_holdout in the training column order."""
    for label, frame in (("X_train", X_train), ("X_holdout", X_holdout)):
        if not isinstance(frame, pd.DataFrame):
            raise _Problem(f"{label} is a {type(frame).__name__}, not a pandas DataFrame",
                           "pass DataFrames, so every input has a column name")
        if frame.empty:
            raise _Problem(f"{label} is empty ({frame.shape[0]} rows, {frame.shape[1]} columns)",
                           "check the data loading and the split")
    if not isinstance(y_holdout, pd.Series):
        raise _Problem(f"y_holdout is a {type(y_holdout).__name__}, not a pandas Series",
                       "pass the target column, e.g. df['species']")
    if len(y_holdout) != len(X_holdout):
        raise _Problem(f"y_holdout has {len(y_holdout)} rows but X_holdout {len(X_holdout)}",
                       "split features and target together")
    if y_holdout.isna().any():
        raise _Problem(f"y_holdout has {int(y_holdout.isna().sum())} missing values",
                       "drop rows with a missing target before splitting")
    train_cols, holdout_cols = list(X_train.columns), list(X_holdout.columns)
    if len(set(train_cols)) != len(train_cols):
        raise _Problem("X_train has repeated column names", "give every column its own name")
    if set(holdout_cols) != set(train_cols):
        extra = sorted(map(str, set(holdout_cols) - set(train_cols)))
        missing = sorted(map(str, set(train_cols) - set(holdout_cols)))
        raise _Problem(
            "X_holdout's columns differ from X_train's: "
            f"not trained on {extra or 'none'}, missing {missing or 'none'}",
            "select the same feature columns for training and holdout",
        )
    trained_on = getattr(model, "feature_names_in_", None)
    if trained_on is not None and list(trained_on) != train_cols:
        raise _Problem(
            f"the model was fitted on columns {list(trained_on)}, X_train has {train_cols}",
            "pass the exact frame the model was fitted on as X_train",
        )
    return X_holdout[train_cols]


def _check_target(task: str, model: Any, X_train: pd.DataFrame, y_holdout: pd.Series) -> str:
    target = y_holdout.name
    if not isinstance(target, str) or not target:
        raise _Problem("y_holdout has no name, so the target column cannot be named",
                       "pass a named Series, e.g. df['species'] or y.rename('species')")
    if target in X_train.columns:
        raise _Problem(f"the target {target!r} is also an input column",
                       "drop the target from the feature columns")
    if task != "classification":
        if not pd.api.types.is_numeric_dtype(y_holdout) or pd.api.types.is_bool_dtype(y_holdout):
            raise _Problem(f"a regression target must be numeric, {target!r} is {y_holdout.dtype}",
                           "use task='classification' for labels")
        return target
    classes = list(getattr(model, "classes_", []))
    if len(classes) < 2:
        raise _Problem(f"the classification target has {len(classes)} class(es): {classes}",
                       "a classifier needs at least two classes in its training target")
    seen = set(y_holdout.unique())
    if len(seen) < 2:
        raise _Problem(f"the holdout target has only one class: {sorted(map(str, seen))}",
                       "split with stratify=y so the holdout holds every class")
    unknown = seen - set(classes)
    if unknown:
        raise _Problem(f"the holdout has classes the model never saw: {sorted(map(str, unknown))}",
                       "split with stratify=y so training sees every class")
    return target


def _check_metrics(task: str, model: Any, names: Sequence[str] | None, primary: str,
                   tolerance: float) -> list[str]:
    chosen = list(names) if names is not None else metric_registry.default_metrics(task, model)
    if not chosen:
        raise _Problem("no metrics asked for", "leave metrics=None for the task's defaults")
    for name in [*chosen, primary]:
        try:
            metric = metric_registry.get_metric(name, task=task)
        except ValueError as exc:
            raise _Problem(str(exc), "pick a metric from the list") from None
        if metric.needs_proba and not hasattr(model, "predict_proba"):
            raise _Problem(f"metric {name!r} needs predict_proba, which the model lacks",
                           "drop it from metrics or use a model with predict_proba")
    if primary not in chosen:
        raise _Problem(f"primary metric {primary!r} is not among the metrics {chosen}",
                       "add it to metrics, or leave metrics=None")
    if len(set(chosen)) != len(chosen):
        raise _Problem(f"metrics repeat: {chosen}", "list each metric once")
    if not isinstance(tolerance, int | float) or not 0 <= tolerance < float("inf"):
        raise _Problem(f"tolerance must be a number >= 0, got {tolerance!r}",
                       "give the tolerance in the primary metric's units, e.g. 0.01")
    return chosen


def _pickle(model: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to swap away a folder that is not a release (never lose someone's files)."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise BundleError(f"{out_dir} exists and is not a folder",
                          hint="point HUBSHIP_ASSETS_DIR at a folder for releases")
    if any(out_dir.iterdir()) and not (out_dir / MANIFEST_FILE).is_file():
        raise BundleError(
            f"{out_dir} holds files but no {MANIFEST_FILE}; refusing to replace it",
            hint="point the bundle at an empty folder or an earlier release, "
                 "or move those files away",
        )


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    """Rename the old release aside, the new one into place, then delete the old one."""
    backup = None
    if out_dir.exists():
        backup = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(out_dir, backup)
    try:
        os.rename(staging, out_dir)
    except OSError:
        if backup is not None:
            os.rename(backup, out_dir)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
