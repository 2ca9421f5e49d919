"""Releases to publish: the real training script, and variants of its output.

`trained_once` (tests/conftest.py) runs `python models/train.py` once per session; each
test gets its own copy, `trained`.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import pytest

from hubship.manifest import Manifest, sha256_file
from tests.support import release_builder

ROOT = Path(__file__).resolve().parents[2]


def replace_model(release_dir: Path, name: str, model: object) -> Path:
    """Put `model` in place of `name`, with a correct sha256 and size in the manifest."""
    manifest = Manifest.read(release_dir)
    entry = manifest.models[name]
    path = release_dir / entry.file
    joblib.dump(model, path)
    new_entry = entry.model_copy(update={"sha256": sha256_file(path),
                                         "size": path.stat().st_size})
    manifest.model_copy(update={"models": {**manifest.models, name: new_entry}}).write(
        release_dir)
    return release_dir


@pytest.fixture
def worse(trained: Path) -> Path:
    """The trained release with a DummyClassifier in place of `species` (hashes correct)."""
    import pandas as pd
    from sklearn.dummy import DummyClassifier

    manifest = Manifest.read(trained)
    entry = manifest.models["species"]
    holdout = pd.read_parquet(trained / entry.holdout.file)
    X = holdout[[spec.name for spec in entry.inputs]]
    dummy = DummyClassifier(strategy="most_frequent").fit(X, holdout[entry.output.target])
    return replace_model(trained, "species", dummy)


@pytest.fixture
def registry(hf_api, repo_id: str, hf_cache: Path):
    from hubship.registry import Registry

    return Registry(hf_api, repo_id, cache_dir=hf_cache, retries=1, backoff=0.05)


def _bundle_species(out_dir: Path, *, inputs: list[str], model=None,
                    name: str = "species") -> Path:
    """A one-model release (`name`, predicting the species) on the penguins data with the given
    input columns."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from hubship.bundle import Bundle
    from hubship.manifest import Source

    penguins = pd.read_csv(ROOT / "data" / "penguins.csv").dropna(subset=["species"])
    X_train, X_holdout, y_train, y_holdout = train_test_split(
        penguins[inputs], penguins["species"], test_size=0.25, random_state=0,
        stratify=penguins["species"])
    categorical = [c for c in inputs if X_train[c].dtype == object or
                   str(X_train[c].dtype) in ("str", "string", "category")]
    numeric = [c for c in inputs if c not in categorical]
    model = model or make_pipeline(
        make_column_transformer(
            (make_pipeline(SimpleImputer(strategy="most_frequent"),
                           OneHotEncoder(handle_unknown="ignore")), categorical),
            (SimpleImputer(strategy="median"), numeric)),
        LogisticRegression(max_iter=2000))
    model.fit(X_train, y_train)
    bundle = Bundle(out_dir, source=Source(git_commit="f" * 40, git_subject="test release"))
    bundle.add(name, model, X_train=X_train, X_holdout=X_holdout, y_holdout=y_holdout,
               task="classification", primary_metric="f1_macro", tolerance=0.01)
    bundle.save()
    return out_dir


@pytest.fixture
def bundle_species():
    """Build a one-model release: `bundle_species(out_dir, inputs=[...], name="species")`."""
    return _bundle_species


@pytest.fixture
def pickled_with():
    """`pickled_with(release_dir, "0.24.2")`: the release claims another scikit-learn."""
    return release_builder.pickled_with
