"""Two small real releases (penguin species and body mass), written in the release layout of
`hubship.manifest` and published to the local hub as tags v1 and v2, so the page has a live
release to show and a history to chart. Release 2 is better than release 1 on both models.
"""

from __future__ import annotations

import platform
from pathlib import Path

import joblib
import pandas as pd
import sklearn
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from hubship.manifest import (
    Environment,
    FileRef,
    InputSpec,
    Manifest,
    ModelEntry,
    OutputSpec,
    PrimaryMetric,
    Source,
    sha256_file,
    utcnow,
)

SPECIES_INPUTS = ["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "sex", "year"]
MASS_INPUTS = ["species", "bill_length_mm", "flipper_length_mm", "sex"]
# Release N trains with STRENGTH[N]: weaker regularisation, better model.
STRENGTH = {1: 0.002, 2: 1.0}


def penguins() -> pd.DataFrame:
    frame = load_penguins()
    numeric = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    return frame.dropna(subset=numeric).reset_index(drop=True)  # `sex` keeps its gaps: nullable


def _input_spec(name: str, column: pd.Series) -> InputSpec:
    nullable = bool(column.isna().any())
    if pd.api.types.is_numeric_dtype(column):
        kind = "integer" if pd.api.types.is_integer_dtype(column) else "number"
        return InputSpec(name=name, type=kind, nullable=nullable,
                         min=float(column.min()), max=float(column.max()))
    return InputSpec(name=name, type="category", nullable=nullable,
                     values=sorted(column.dropna().unique().tolist()))


def _pipeline(frame: pd.DataFrame, estimator: object) -> Pipeline:
    categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    numeric = [c for c in frame.columns if c not in categorical]
    prepare = ColumnTransformer([
        ("numeric", StandardScaler(), numeric),
        ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                      OneHotEncoder(handle_unknown="ignore")), categorical),
    ])
    return Pipeline([("prepare", prepare), ("model", estimator)])


def _save(release_dir: Path, name: str, estimator: Pipeline, holdout: pd.DataFrame
          ) -> tuple[FileRef, FileRef]:
    model_path = release_dir / "models" / f"{name}.joblib"
    holdout_path = release_dir / "holdout" / f"{name}.parquet"
    model_path.parent.mkdir(parents=True, exist_ok=True)
    holdout_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, model_path)
    holdout.to_parquet(holdout_path, index=False)
    refs = []
    for path in (model_path, holdout_path):
        refs.append(FileRef(file=path.relative_to(release_dir).as_posix(),
                            sha256=sha256_file(path), size=path.stat().st_size))
    return refs[0], refs[1]


def build_release(release_dir: Path, *, release: int) -> Manifest:
    """Train both models for release `release` and write the release directory."""
    frame = penguins()
    train, test = train_test_split(frame, test_size=0.3, random_state=0,
                                   stratify=frame["species"])
    strength = STRENGTH[release]
    models: dict[str, ModelEntry] = {}

    species = _pipeline(train[SPECIES_INPUTS], LogisticRegression(C=strength, max_iter=1000))
    species.fit(train[SPECIES_INPUTS], train["species"])
    predicted = species.predict(test[SPECIES_INPUTS])
    model_ref, holdout_ref = _save(release_dir, "species", species,
                                   test[[*SPECIES_INPUTS, "species"]])
    models["species"] = ModelEntry(
        **model_ref.model_dump(), task="classification",
        estimator="sklearn.linear_model.LogisticRegression",
        inputs=[_input_spec(c, frame[c]) for c in SPECIES_INPUTS],
        output=OutputSpec(target="species", classes=sorted(frame["species"].unique())),
        metrics={"accuracy": accuracy_score(test["species"], predicted),
                 "f1_macro": f1_score(test["species"], predicted, average="macro")},
        primary_metric=PrimaryMetric(name="accuracy", higher_is_better=True, tolerance=0.01),
        holdout=holdout_ref,
    )

    mass = _pipeline(train[MASS_INPUTS], Ridge(alpha=1.0 / strength))
    mass.fit(train[MASS_INPUTS], train["body_mass_g"])
    predicted = mass.predict(test[MASS_INPUTS])
    model_ref, holdout_ref = _save(release_dir, "body_mass", mass,
                                   test[[*MASS_INPUTS, "body_mass_g"]])
    models["body_mass"] = ModelEntry(
        **model_ref.model_dump(), task="regression", estimator="sklearn.linear_model.Ridge",
        inputs=[_input_spec(c, frame[c]) for c in MASS_INPUTS],
        output=OutputSpec(target="body_mass_g", unit="g"),
        metrics={"mae": mean_absolute_error(test["body_mass_g"], predicted),
                 "r2": r2_score(test["body_mass_g"], predicted)},
        primary_metric=PrimaryMetric(name="mae", higher_is_better=False, tolerance=5.0),
        holdout=holdout_ref,
    )

    manifest = Manifest(
        release=release, created_at=utcnow(),
        source=Source(git_commit=f"{release}" * 40, git_subject=f"train release {release}"),
        environment=Environment(python=platform.python_version(), packages={
            "scikit-learn": sklearn.__version__, "pandas": pd.__version__,
            "joblib": joblib.__version__}),
        models=models,
    )
    manifest.write(release_dir)
    return manifest


def publish_releases(api, repo_id: str, work_dir: Path, *, count: int = 2) -> list[str]:
    """Publish releases 1..count to `repo_id` (one commit each, tagged v<N>); their shas."""
    api.create_repo(repo_id, exist_ok=True)
    shas = []
    for release in range(1, count + 1):
        release_dir = work_dir / f"release-{release}"
        release_dir.mkdir(parents=True)
        build_release(release_dir, release=release)
        commit = api.upload_folder(folder_path=release_dir, repo_id=repo_id,
                                   commit_message=f"release v{release}")
        api.create_tag(repo_id, tag=f"v{release}", revision=commit.oid)
        shas.append(commit.oid)
    return shas
