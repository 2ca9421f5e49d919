"""Hand-built test releases: pipelines fitted on the Palmer penguins (the palmerpenguins
package), saved with `hubship.bundle.Bundle`, numbered, then published with the real publisher
(`hubship.publish.publish`: gate against the live release, card and plots, one commit, tag v<N>,
signed when given a key).

For what the real `models/train.py` cannot give: the frontend's models whose inputs the browser
tests fill in, releases at a chosen quality (v2 beats v1 by design), and the odd releases of the
trust tests. The other backend tests run on the real training script's releases
(`real_releases`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from hubship.bundle import Bundle
from hubship.manifest import Manifest, Source, Task

MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
# This split puts every measurement's smallest and largest value in the training rows, so the
# input ranges Bundle infers are the whole data set's (the frontend shows 59.6, the longest bill).
SPLIT_SEED = 4


@dataclass(frozen=True)
class Recipe:
    """One model of a test release: what it predicts, from which columns, gated how."""

    name: str
    target: str
    inputs: tuple[str, ...]
    task: Task
    primary_metric: str
    tolerance: float = 0.0
    unit: str | None = None


# The frontend's form shows these inputs (its browser tests fill sex and year).
FRONTEND_MODELS = (
    Recipe("species", "species", ("island", "bill_length_mm", "bill_depth_mm",
                                  "flipper_length_mm", "sex", "year"),
           "classification", "accuracy", tolerance=0.01),
    Recipe("body_mass", "body_mass_g", ("species", "bill_length_mm", "flipper_length_mm", "sex"),
           "regression", "mae", tolerance=5.0, unit="g"),
)
# The trust tests post GOOD_PENGUIN: every input required, none nullable.
BACKEND_MODELS = (
    Recipe("species", "species", ("bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                                  "island"),
           "classification", "accuracy", tolerance=0.01),
    Recipe("body_mass", "body_mass_g", ("flipper_length_mm", "bill_length_mm", "island"),
           "regression", "r2", tolerance=0.01, unit="g"),
)
GOOD_PENGUIN = {"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181,
                "island": "Torgersen"}  # an Adelie


def penguins() -> pd.DataFrame:
    frame = load_penguins()
    return frame.dropna(subset=MEASUREMENTS).reset_index(drop=True)  # `sex` keeps its gaps


def _pipeline(inputs: pd.DataFrame, estimator: Any) -> Pipeline:
    categorical = [c for c in inputs.columns if not pd.api.types.is_numeric_dtype(inputs[c])]
    numeric = [c for c in inputs.columns if c not in categorical]
    prepare = ColumnTransformer([
        ("numeric", StandardScaler(), numeric),
        ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                      OneHotEncoder(handle_unknown="ignore")), categorical),
    ])
    return Pipeline([("prepare", prepare), ("model", estimator)])


def _estimator(task: Task, flexibility: float) -> Any:
    if task == "classification":
        return LogisticRegression(C=flexibility, max_iter=1000)
    return Ridge(alpha=1.0 / flexibility)


def build_release(release_dir: Path, models: Sequence[Recipe], *, release: int,
                  flexibility: float = 1.0, model_format: str = "joblib") -> Manifest:
    """Fit `models`, save them with `Bundle` into `release_dir` and number the release.

    `flexibility` is the classifiers' C and the regressors' 1/alpha: a higher one fits closer,
    scores better, and gives other model files (other shas). The source commit is the release
    number repeated ("2222222..." for release 2), so pages can show it.
    `model_format` is Bundle.add's `format` ("joblib" or "skops").
    """
    frame = penguins()
    train, holdout = train_test_split(frame, test_size=0.3, random_state=SPLIT_SEED,
                                      stratify=frame["species"])
    source = Source(git_commit=(str(release) * 40)[:40], git_subject=f"train release {release}")
    bundle = Bundle(release_dir, source=source, repo_root=Path(release_dir).parent)
    for recipe in models:
        columns = list(recipe.inputs)
        model = _pipeline(train[columns], _estimator(recipe.task, flexibility))
        model.fit(train[columns], train[recipe.target])
        bundle.add(recipe.name, model, X_train=train[columns], X_holdout=holdout[columns],
                   y_holdout=holdout[recipe.target], task=recipe.task,
                   primary_metric=recipe.primary_metric, tolerance=recipe.tolerance,
                   unit=recipe.unit, format=model_format)
    manifest = bundle.save().model_copy(update={"release": release})
    manifest.write(release_dir)
    return manifest


def pickled_with(release_dir: Path, version: str) -> Path:
    """Make the manifest say its models were pickled with scikit-learn `version`."""
    manifest = Manifest.read(release_dir)
    packages = {**manifest.environment.packages, "scikit-learn": version}
    environment = manifest.environment.model_copy(update={"packages": packages})
    manifest.model_copy(update={"environment": environment}).write(release_dir)
    return release_dir


def publish_release(api: Any, repo_id: str, release_dir: Path, *, cache_dir: Path,
                    signing_key: Any = None) -> str:
    """Publish `release_dir` with the real publisher (gated, numbered, tagged, and signed with
    `signing_key` when given, a `hubship.signing.SigningKey`); its sha."""
    from rich.console import Console

    from hubship.publish import publish
    from hubship.registry import Registry
    from hubship.release import LOCAL, Trust

    # Created public first (the publisher would make it private): the tests' backends read
    # the repo without a token.
    api.create_repo(repo_id, exist_ok=True)
    trust = Trust(signing_key.public) if signing_key else LOCAL
    result = publish(Registry(api, repo_id, cache_dir=cache_dir), release_dir,
                     console=Console(quiet=True), trust=trust, signing_key=signing_key)
    assert result.changed and not result.forced, result
    return result.sha
