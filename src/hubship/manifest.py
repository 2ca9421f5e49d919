"""The release manifest: what every part reads about a release.

A release is a directory (locally `backend/model_assets/`, on the Hub one commit) laid out as:

    manifest.json               this model, serialised
    models/<name>.joblib        one fitted estimator per model (or <name>.skops: see below)
    holdout/<name>.parquet      the holdout set the gate scores on (features + target column)
    README.md, plots/*.png      the model card (added at publish)
    manifest.sig                signature (when a signing key is set)

Every `file` in the manifest is a POSIX path relative to the release directory. A model file's
suffix names its format: `.joblib` (a pickle, the default) or `.skops` (skops.io, loaded with
an allow-list of types); `hubship.release` is the only code that loads either.

Format versions: `format` is "hubship/<N>". Readers accept every N in `READABLE_FORMATS`;
to change the layout incompatibly, add a new N, keep reading the old ones, and convert them
in `Manifest.parse`. hubship/2 added, all optional (a hubship/1 manifest reads as before): per
input `limit_min`/`limit_max` (declared hard limits; `min`/`max` are the training range, a
warning only), `accepts_unknown` (a category the model takes unseen values of), the `text`
type with `max_length`; per model `example` (training medians and modes), `array` (trained
on a 2-D array) and `packages` (every distribution its pickled object needs). It is a new N
because an older hubship, which forbids unknown fields, must say "upgrade" rather than fail.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    ValidationError,
    field_validator,
    model_validator,
)

from hubship.errors import IntegrityError, ManifestError

FORMAT = "hubship/2"
READABLE_FORMATS = {"hubship/1", "hubship/2"}
MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
CARD_FILE = "README.md"
_MANIFEST_HINT = (
    "hubship.bundle writes the manifest when training saves: re-run training for a local "
    "release; a release from the Hub with a broken manifest must be replaced by a new one"
)
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

Task = Literal["classification", "regression"]
ModelFormat = Literal["joblib", "skops"]
MODEL_FORMATS: tuple[ModelFormat, ...] = ("joblib", "skops")
InputType = Literal["number", "integer", "category", "boolean", "text"]
Scalar = str | int | float | bool
DEFAULT_MAX_TEXT = 10_000  # characters of a text input, unless Bundle.add says otherwise


class _Strict(BaseModel):
    # the backend's answers include these models (/models/{name}): every field is sent
    model_config = ConfigDict(extra="forbid", frozen=True,
                              json_schema_serialization_defaults_required=True)


class FileRef(_Strict):
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)

    @field_validator("file")
    @classmethod
    def _relative_posix(cls, value: str) -> str:
        path = PurePosixPath(value)
        if path.is_absolute() or ".." in path.parts or "\\" in value or not value:
            raise ValueError(f"{value!r} must be a relative path inside the release")
        return value


class InputSpec(_Strict):
    name: str
    type: InputType
    nullable: bool = False
    min: FiniteFloat | None = None
    max: FiniteFloat | None = None
    values: list[Scalar] | None = None
    # hubship/2 (see the module doc)
    limit_min: FiniteFloat | None = Field(None, description="declared hard limit (422 below)")
    limit_max: FiniteFloat | None = Field(None, description="declared hard limit (422 above)")
    accepts_unknown: bool = Field(False, description="a category value not seen in training "
                                  "is predicted with a warning instead of refused")
    max_length: int | None = Field(None, ge=1, description="longest text accepted")

    @model_validator(mode="after")
    def _consistent(self) -> InputSpec:
        if self.type == "category" and not self.values:
            raise ValueError(f"input {self.name!r} is a category but lists no values")
        for low, high in ((self.min, self.max), (self.limit_min, self.limit_max)):
            if low is not None and high is not None and low > high:
                raise ValueError(f"input {self.name!r} has a lower bound {low} > {high}")
        return self


class OutputSpec(_Strict):
    target: str
    classes: list[str | int | float | bool] | None = None
    unit: str | None = None


class PrimaryMetric(_Strict):
    name: str
    higher_is_better: bool
    tolerance: FiniteFloat = Field(0.0, ge=0)


class ModelEntry(FileRef):
    task: Task
    estimator: str = Field(description="class path of the fitted estimator, for people")
    inputs: list[InputSpec] = Field(min_length=1)
    output: OutputSpec
    metrics: dict[str, FiniteFloat]
    primary_metric: PrimaryMetric
    holdout: FileRef
    # hubship/2 (see the module doc)
    example: dict[str, Scalar | None] | None = Field(
        None, description="a typical record: the training medians and modes")
    array: bool = Field(False, description="trained on a 2-D array: the inputs are its columns "
                        "in order, and a predict body may be a plain list of values")
    packages: list[str] | None = Field(
        None, description="every distribution the pickled model needs (versions in "
                          "environment.packages)")

    @model_validator(mode="after")
    def _consistent(self) -> ModelEntry:
        if self.primary_metric.name not in self.metrics:
            raise ValueError(
                f"primary metric {self.primary_metric.name!r} is not among the metrics "
                f"{sorted(self.metrics)}"
            )
        if self.task == "classification" and not self.output.classes:
            raise ValueError("a classification model must list its output classes")
        names = [i.name for i in self.inputs]
        if len(names) != len(set(names)):
            raise ValueError(f"input names repeat: {names}")
        if self.example is not None and sorted(self.example) != sorted(names):
            raise ValueError(f"the example's fields {list(self.example)} are not the inputs "
                             f"{names}")
        return self


class Source(_Strict):
    git_commit: str | None = None
    git_dirty: bool | None = None
    git_ref: str | None = None
    git_subject: str | None = None
    repository: str | None = None
    run_url: str | None = None

    def commit_label(self, length: int | None = 7) -> str | None:
        """The commit as people should read it: `807c12b`, or `807c12b+dirty` when the
        release was trained from uncommitted changes (its files may not match the commit)."""
        if self.git_commit is None:
            return None
        return self.git_commit[:length] + ("+dirty" if self.git_dirty else "")


class Environment(_Strict):
    python: str
    packages: dict[str, str]


class Manifest(_Strict):
    format: str = FORMAT
    release: int | None = Field(None, ge=1, description="v<N>; set when published")
    created_at: datetime
    source: Source = Source()
    data: dict[str, str] = Field(default_factory=dict, description="data file path -> sha256")
    environment: Environment
    models: dict[str, ModelEntry] = Field(min_length=1)
    forced: bool = Field(False, description="published although the gate refused it")
    restores: str | None = Field(None, description="for a rollback: the tag or sha it restores")

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in READABLE_FORMATS:
            raise ValueError(
                f"unknown manifest format {value!r}; this hubship reads {sorted(READABLE_FORMATS)}"
                " (upgrade hubship to read newer releases)"
            )
        return value

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("created_at must carry a timezone (UTC, ending in Z)")
        return value.astimezone(UTC)

    @field_validator("models")
    @classmethod
    def _model_names(cls, value: dict[str, ModelEntry]) -> dict[str, ModelEntry]:
        for name, entry in value.items():
            if not MODEL_NAME.fullmatch(name):
                raise ValueError(
                    f"model name {name!r}: 1-64 ASCII letters, digits, '-' and '_', "
                    "starting with a letter or digit (it becomes a file name on the Hub)"
                )
            expected = (model_file(name, model_format(entry.file)), holdout_file(name))
            if (entry.file, entry.holdout.file) != expected:
                raise ValueError(
                    f"model {name!r} must live at {expected[0]} with its holdout set at "
                    f"{expected[1]}, not {entry.file} and {entry.holdout.file}"
                )
        return value

    # ---- reading and writing -------------------------------------------------------------

    @classmethod
    def parse(cls, raw: str | bytes, *, origin: str = MANIFEST_FILE) -> Manifest:
        """Validate manifest text; a ManifestError names every wrong field."""
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ManifestError(
                f"{origin} is not valid JSON: {exc}",
                hint=_MANIFEST_HINT,
            ) from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ManifestError(
                f"{origin} is not a valid hubship manifest: {problems}",
                hint=_MANIFEST_HINT,
            ) from None

    @classmethod
    def read(cls, release_dir: Path) -> Manifest:
        path = Path(release_dir) / MANIFEST_FILE
        if not path.is_file():
            raise ManifestError(
                f"no {MANIFEST_FILE} in {release_dir}",
                hint="run `python models/train.py` (or `hubship train`) to create a release",
            )
        return cls.parse(path.read_bytes(), origin=str(path))

    def dumps(self) -> str:
        """Canonical JSON: sorted keys, 2-space indent, trailing newline, Z timestamps."""
        data = self.model_dump(mode="json")
        data["created_at"] = self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def write(self, release_dir: Path) -> Path:
        path = Path(release_dir) / MANIFEST_FILE
        path.write_text(self.dumps(), encoding="utf-8")
        return path

    # ---- integrity -----------------------------------------------------------------------

    def files(self) -> list[FileRef]:
        """Every file the manifest vouches for (models and holdout sets)."""
        refs: list[FileRef] = []
        for entry in self.models.values():
            refs.append(FileRef(file=entry.file, sha256=entry.sha256, size=entry.size))
            refs.append(entry.holdout)
        return refs

    def verify_files(self, release_dir: Path, *, names: set[str] | None = None) -> None:
        """Raise IntegrityError unless every file exists with its recorded size and sha256.

        Call before anything is unpickled.
        """
        for ref in self.files():
            if names is not None and ref.file not in names:
                continue
            verify_file(Path(release_dir) / ref.file, ref)

    def model_hashes(self) -> dict[str, str]:
        return {name: entry.sha256 for name, entry in self.models.items()}


def model_file(name: str, format: ModelFormat = "joblib") -> str:
    return f"models/{name}.{format}"


def model_format(file: str) -> ModelFormat:
    """The format a model file's suffix names (anything but .skops reads as joblib, and the
    manifest then refuses a file name other than models/<name>.joblib)."""
    return "skops" if file.endswith(".skops") else "joblib"


def holdout_file(name: str) -> str:
    return f"holdout/{name}.parquet"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path, ref: FileRef) -> None:
    if not path.is_file():
        raise IntegrityError(
            f"{ref.file}: missing from the release", hint="download the release again"
        )
    size = path.stat().st_size
    if size != ref.size:
        raise IntegrityError(
            f"{ref.file}: size {size} bytes, manifest says {ref.size}",
            hint="the file was altered or truncated; download the release again",
        )
    actual = sha256_file(path)
    if actual != ref.sha256:
        raise IntegrityError(
            f"{ref.file}: sha256 {actual[:12]}…, manifest says {ref.sha256[:12]}…",
            hint="the file was altered; do not load it, download the release again",
        )


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
