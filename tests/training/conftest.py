"""Fixtures for the training tests: real runs of models/train.py and small fitted models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support.real_releases import train_release

CI_VARIABLES = ("GITHUB_SHA", "GITHUB_REF", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL",
                "GITHUB_RUN_ID", "SOURCE_DATE_EPOCH")


@pytest.fixture(scope="session")
def two_releases(trained_once: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[Path, Path]:
    """Two releases from two runs of models/train.py on the same inputs, from different cwds:
    the session's `trained_once` (run from the project root) and a run from elsewhere."""
    elsewhere = tmp_path_factory.mktemp("train-elsewhere")
    return trained_once, train_release(elsewhere / "second", cwd=elsewhere)


@pytest.fixture(autouse=True)
def _no_ci_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def toy_data() -> dict[str, pd.DataFrame | pd.Series]:
    """A small mixed-type frame with a 3-class label and a numeric target."""
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({
        "size": rng.normal(10, 2, n),
        "count": rng.integers(0, 5, n),
        "colour": rng.choice(["red", "green", "blue"], n),
    })
    label = pd.Series(np.array(["a", "b", "c"])[np.arange(n) % 3], name="label")
    amount = pd.Series(frame["size"] * 3 + rng.normal(0, 1, n), name="amount")
    return {"X_train": frame.iloc[:45], "X_holdout": frame.iloc[45:],
            "label_train": label.iloc[:45], "label_holdout": label.iloc[45:],
            "amount_train": amount.iloc[:45], "amount_holdout": amount.iloc[45:]}


def _pipeline(estimator):  # type: ignore[no-untyped-def]
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    prepare = ColumnTransformer(
        [("colour", OneHotEncoder(handle_unknown="ignore"), ["colour"])],
        remainder="passthrough",
    )
    return Pipeline([("prepare", prepare), ("model", estimator)])


@pytest.fixture(scope="session")
def classifier(toy_data):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    return _pipeline(LogisticRegression(max_iter=500)).fit(
        toy_data["X_train"], toy_data["label_train"]
    )


@pytest.fixture(scope="session")
def regressor(toy_data):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import Ridge

    return _pipeline(Ridge()).fit(toy_data["X_train"], toy_data["amount_train"])


@pytest.fixture
def make_pipeline():  # type: ignore[no-untyped-def]
    return _pipeline
