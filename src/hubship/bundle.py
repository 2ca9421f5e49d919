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

`format="skops"` saves a model with `skops.io` instead of joblib (`models/<name>.skops`): the
backend then builds it from an allow-list of types in its own configuration instead of
unpickling it. skops names its members by `id()` and stamps the zip with the time, so the
file is rewritten canonically (members renamed in schema order, fixed timestamps): the same
model gives the same bytes, and an unchanged release stays unchanged.

Inputs beyond a DataFrame of numbers and categories (`hubship.bundle_inputs`): `X_train` as a
2-D array or sparse matrix (`feature_names=` names its columns), `text=[...]`, hard
`limits={...}`, `accept_unknown=[...]`. The manifest also records the model's example record
and every package its pickle needs (`hubship.model_packages`), whose versions the backend
checks.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from hubship import bundle_inputs, holdout, provenance, schema, scoring
from hubship.bundle_checks import (
    Problem,
    check_fitted,
    check_frames,
    check_metrics,
    check_target,
)
from hubship.errors import BundleError
from hubship.manifest import (
    DEFAULT_MAX_TEXT,
    MANIFEST_FILE,
    MODEL_FORMATS,
    MODEL_NAME,
    FileRef,
    Manifest,
    ModelEntry,
    ModelFormat,
    PrimaryMetric,
    Source,
    Task,
    holdout_file,
    model_file,
)
from hubship.model_packages import needed_packages

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
        format: ModelFormat = "joblib",
        text: Sequence[str] = (),
        max_text_length: int = DEFAULT_MAX_TEXT,
        limits: Mapping[str, tuple[float | None, float | None]] | None = None,
        accept_unknown: Sequence[str] = (),
        feature_names: Sequence[str] | None = None,
    ) -> ModelEntry:
        """Check and stage one fitted model; raises BundleError naming the model and problem.

        `format`: "joblib" (a pickle, the default) or "skops" (see the module doc).
        `text`, `max_text_length`, `limits`, `accept_unknown`, `feature_names`: see
        `hubship.bundle_inputs`.
        """
        if not isinstance(name, str) or not MODEL_NAME.fullmatch(name):
            raise BundleError(
                f"invalid model name {name!r}",
                hint="use 1-64 letters, digits, '-' and '_', starting with a letter or digit",
            )
        if name in self._staged:
            raise BundleError(
                f"model {name!r} was already added to this bundle",
                hint="give every model its own name",
            )
        if format not in MODEL_FORMATS:
            raise BundleError(f"model {name!r}: unknown format {format!r}",
                              hint="use format='joblib' (the default) or format='skops'")
        try:
            staged = self._stage(
                name, model, X_train=X_train, X_holdout=X_holdout, y_holdout=y_holdout,
                task=task, primary_metric=primary_metric, tolerance=tolerance,
                metric_names=metrics, unit=unit, format=format,
                declared=bundle_inputs.Declared(text=tuple(text),
                                                max_text_length=max_text_length,
                                                limits=limits,
                                                accept_unknown=tuple(accept_unknown)),
                feature_names=feature_names,
            )
        except Problem as problem:
            raise BundleError(f"model {name!r}: {problem.message}", hint=problem.hint) from None
        self._staged[name] = staged
        return staged.entry

    def _stage(
        self, name: str, model: Any, *, X_train: Any, X_holdout: Any, y_holdout: Any,
        task: str, primary_metric: str, tolerance: float, metric_names: Sequence[str] | None,
        unit: str | None, format: ModelFormat, declared: bundle_inputs.Declared,
        feature_names: Sequence[str] | None,
    ) -> _Staged:
        if task not in TASKS:
            raise Problem(f"unknown task {task!r}", "use task='classification' or 'regression'")
        check_fitted(model, task)
        X_train, X_holdout, array = bundle_inputs.as_frames(X_train, X_holdout, feature_names)
        X_holdout = check_frames(model, X_train, X_holdout, y_holdout)
        target = check_target(task, model, X_train, y_holdout)
        names = check_metrics(task, model, metric_names, primary_metric, tolerance)

        described = bundle_inputs.describe(model, X_train, declared)
        for note in described.notes:
            print(f"hubship: model {name!r}: {note}")
        try:
            output = schema.infer_output(task, model, target, unit=unit)
        except ValueError as exc:
            raise Problem(f"X_train: {exc}", "fix the training frame's columns") from None
        model_bytes = _skops(model) if format == "skops" else _pickle(model)
        packages = needed_packages(model)
        holdout_bytes = holdout.holdout_bytes(X_holdout, y_holdout, target=target)
        # Score on the holdout exactly as saved: the numbers anyone re-scoring will get.
        X_saved, y_saved = holdout.read_holdout_bytes(holdout_bytes, target=target)
        try:
            values = scoring.compute_metrics(
                task, model, holdout.model_input(X_saved, array=array), y_saved, names=names)
        except ValueError as exc:
            raise Problem(f"scoring the holdout set failed: {exc}",
                          "check the holdout set matches what the model was trained on") from None
        try:
            entry = ModelEntry(
                file=model_file(name, format),
                sha256=hashlib.sha256(model_bytes).hexdigest(),
                size=len(model_bytes),
                task=task,
                estimator=_estimator_name(model),
                inputs=described.inputs,
                output=output,
                metrics=values,
                primary_metric=PrimaryMetric(
                    name=primary_metric,
                    higher_is_better=scoring.METRICS[primary_metric].higher_is_better,
                    tolerance=tolerance,
                ),
                holdout=_ref(holdout_file(name), holdout_bytes),
                example=described.example,
                array=array,
                packages=packages,
            )
        except ValidationError as exc:
            raise Problem(f"does not make a valid manifest entry: {exc}",
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
        source = self.source or provenance.git_source(root)
        provenance.require_committed(source, root)
        return Manifest(
            created_at=provenance.created_at(),
            source=source,
            data=data,
            environment=_environment(self.entries),
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


def _pickle(model: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    try:
        joblib.dump(model, buffer)
    except Exception as exc:  # pickle raises many types (PicklingError, AttributeError, ...)
        raise Problem(f"cannot be pickled: {type(exc).__name__}: {exc}",
                      "replace lambdas and local functions in the pipeline with named "
                      "module-level functions") from None
    return buffer.getvalue()


def _skops(model: Any) -> bytes:
    """The model as a canonical skops file, checked to load back (a lambda dumps but never
    loads). Loading it back here trusts every type it holds: it is this process's own model."""
    import skops.io

    try:
        data = _canonical_skops(skops.io.dumps(model))
        skops.io.loads(data, trusted=skops.io.get_untrusted_types(data=data))
    except Exception as exc:  # skops raises many types (TypeError, AttributeError, ...)
        raise Problem(f"cannot be saved with skops: {type(exc).__name__}: {exc}",
                      "replace lambdas and local functions with named module-level ones, or "
                      "save this model with format='joblib'") from None
    return data


def _canonical_skops(data: bytes) -> bytes:
    """The same skops file with ids renumbered in schema order and fixed zip timestamps."""
    import json
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    arrays = set(source.namelist()) - {"schema.json"}
    schema = json.loads(source.read("schema.json"))
    ids: dict[int, int] = {}
    files: dict[str, str] = {}

    def renumber(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int):
                    node[key] = ids.setdefault(value, len(ids))
                elif key == "file" and value in arrays:
                    node[key] = files.setdefault(value, f"{len(files)}.npy")
                else:
                    renumber(value)
        elif isinstance(node, list):
            for value in node:
                renumber(value)

    renumber(schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        members = [("schema.json", json.dumps(schema).encode())]
        members += [(new, source.read(old)) for old, new in files.items()]
        for name, content in members:
            target.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content)
    return out.getvalue()


def _environment(entries: dict[str, ModelEntry]) -> Any:
    """Python and package versions, with every package the models' pickles need (lightgbm,
    skops, ...): the backend refuses to load them under other versions."""
    from hubship.release import model_distributions

    environment = provenance.environment()
    packages = dict(environment.packages)
    for entry in entries.values():
        for distribution in sorted(model_distributions(entry)):
            packages.setdefault(distribution, provenance.package_version(distribution))
    return environment.model_copy(update={"packages": packages})


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
