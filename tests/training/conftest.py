"""Fixtures for the training tests: real runs of models/train.py and small fitted models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAIN_SCRIPT = ROOT / "models" / "train.py"
CI_VARIABLES = ("GITHUB_SHA", "GITHUB_REF", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL",
                "GITHUB_RUN_ID", "SOURCE_DATE_EPOCH")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    env.update(extra)
    return env


def run_train_script(out_dir: Path, *, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python models/train.py` exactly as a user runs it, writing into `out_dir`."""
    done = subprocess.run(
        [sys.executable, str(TRAIN_SCRIPT)], cwd=cwd, capture_output=True, text=True,
        env=clean_env(HUBSHIP_ASSETS_DIR=str(out_dir)), timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="session")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two releases from two runs of models/train.py on the same inputs, from different cwds."""
    base = tmp_path_factory.mktemp("train-runs")
    first, second = base / "first", base / "second"
    run_train_script(first, cwd=ROOT)
    run_train_script(second, cwd=base)
    return first, second


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
