"""Small releases built by hand for the backend tests (no dependency on hubship.bundle).

A penguin-like synthetic frame, a classifier pipeline (species) and a regressor (body mass),
laid out as hubship.manifest documents: manifest.json, models/<name>.joblib,
holdout/<name>.parquet.
"""

from __future__ import annotations

import platform
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from hubship.manifest import Manifest, sha256_file, utcnow

SPECIES = {"Adelie": (39.0, 18.3, 190.0, 3700.0), "Chinstrap": (48.8, 18.4, 196.0, 3730.0),
           "Gentoo": (47.5, 15.0, 217.0, 5080.0)}
ISLANDS = ["Biscoe", "Dream", "Torgersen"]
NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
CLASSIFIER_INPUTS = [*NUMBERS, "island"]
REGRESSOR_INPUTS = ["flipper_length_mm", "bill_length_mm", "island"]

ADMIN_TOKEN = "admin-secret-for-tests"
GOOD_PENGUIN = {"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181,
                "island": "Torgersen"}
GOOD_MASS_INPUT = {"flipper_length_mm": 210, "bill_length_mm": 45.0, "island": "Biscoe"}


def penguin_frame(seed: int = 0, rows: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    species = rng.choice(list(SPECIES), size=rows)
    means = np.array([SPECIES[s] for s in species])
    noise = rng.normal(0, [2.0, 0.8, 6.0, 300.0], size=(rows, 4))
    values = means + noise
    return pd.DataFrame({
        "bill_length_mm": values[:, 0].round(1), "bill_depth_mm": values[:, 1].round(1),
        "flipper_length_mm": values[:, 2].round(0), "body_mass_g": values[:, 3].round(0),
        "island": rng.choice(ISLANDS, size=rows), "species": species,
    })


def _pipeline(numbers: list[str], estimator):
    columns = ColumnTransformer([
        ("num", StandardScaler(), numbers),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["island"]),
    ])
    return make_pipeline(columns, estimator)


def _inputs(frame: pd.DataFrame, names: list[str]) -> list[dict]:
    specs = []
    for name in names:
        if name == "island":
            specs.append({"name": name, "type": "category", "values": ISLANDS})
        else:
            specs.append({"name": name, "type": "number", "min": float(frame[name].min()) - 5,
                          "max": float(frame[name].max()) + 5})
    return specs


def build_release(release_dir: Path, *, release: int | None, seed: int = 0,
                  sklearn_version: str | None = None) -> Manifest:
    """Fit both models on a seeded frame and write a complete release into `release_dir`."""
    frame = penguin_frame(seed)
    train, holdout = frame.iloc[:200], frame.iloc[200:]
    classifier = _pipeline(NUMBERS, LogisticRegression(max_iter=500, C=1.0 + seed))
    classifier.fit(train[CLASSIFIER_INPUTS], train["species"])
    regressor = _pipeline(["flipper_length_mm", "bill_length_mm"], Ridge(alpha=1.0 + seed))
    regressor.fit(train[REGRESSOR_INPUTS], train["body_mass_g"])

    (release_dir / "models").mkdir(parents=True, exist_ok=True)
    (release_dir / "holdout").mkdir(exist_ok=True)
    specs = {
        "species": (classifier, CLASSIFIER_INPUTS, "species", "classification",
                    {"accuracy": float(classifier.score(holdout[CLASSIFIER_INPUTS],
                                                        holdout["species"]))}),
        "body_mass": (regressor, REGRESSOR_INPUTS, "body_mass_g", "regression",
                      {"r2": float(regressor.score(holdout[REGRESSOR_INPUTS],
                                                   holdout["body_mass_g"]))}),
    }
    models = {}
    for name, (estimator, inputs, target, task, metrics) in specs.items():
        model_path = release_dir / "models" / f"{name}.joblib"
        joblib.dump(estimator, model_path)
        holdout_path = release_dir / "holdout" / f"{name}.parquet"
        holdout[[*inputs, target]].to_parquet(holdout_path, index=False)
        primary = next(iter(metrics))
        models[name] = {
            "file": f"models/{name}.joblib", "sha256": sha256_file(model_path),
            "size": model_path.stat().st_size, "task": task,
            "estimator": f"sklearn.pipeline.Pipeline({type(estimator[-1]).__name__})",
            "inputs": _inputs(frame, inputs),
            "output": {"target": target,
                       "classes": sorted(SPECIES) if task == "classification" else None,
                       "unit": "g" if task == "regression" else None},
            "metrics": metrics,
            "primary_metric": {"name": primary, "higher_is_better": True, "tolerance": 0.01},
            "holdout": {"file": f"holdout/{name}.parquet",
                        "sha256": sha256_file(holdout_path),
                        "size": holdout_path.stat().st_size},
        }
    manifest = Manifest.model_validate({
        "release": release, "created_at": utcnow(),
        "source": {"git_commit": "0" * 40, "git_subject": f"train release {release}"},
        "environment": {"python": platform.python_version(),
                        "packages": {"scikit-learn": sklearn_version or sklearn.__version__}},
        "models": models,
    })
    manifest.write(release_dir)
    return manifest


def publish(hf_api, repo_id: str, release_dir: Path, release: int) -> str:
    """Upload a release as one commit on main and tag it v<release>; return the commit sha."""
    hf_api.create_repo(repo_id, exist_ok=True)
    commit = hf_api.upload_folder(folder_path=release_dir, repo_id=repo_id,
                                  commit_message=f"release v{release}")
    hf_api.create_tag(repo_id, tag=f"v{release}", revision=commit.oid)
    return commit.oid


def log_text(service) -> str:
    """Everything a started `hubship.services.Service` wrote to its log."""
    return service.log_path.read_text(errors="replace") if service.log_path else ""
