"""Train the penguin models and save them as a release.

Two scikit-learn pipelines on the Palmer penguins data (data/penguins.csv, CC0):
  species     classify a penguin's species from where it lives and its measurements
  body_mass   predict its body mass (g) from the other measurements

Each is scored on a stratified holdout set and saved with `hubship.bundle`, which writes
models, holdout sets and manifest.json into backend/model_assets/ (or $HUBSHIP_ASSETS_DIR).
This file is the example to replace with your own training: keep the `Bundle(...).add(...)`
and `.save()` calls and hubship takes it from there.

Run: python models/train.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from hubship.bundle import Bundle

# ---- settings: change these and push to train a new release ---------------------------------
SEED = 42
HOLDOUT_SIZE = 0.25
SPECIES_C = 1.0            # inverse regularisation strength of the species classifier
BODY_MASS_ALPHA = 1.0      # ridge penalty of the body mass regressor

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "penguins.csv"
OUT_DIR = Path(os.environ.get("HUBSHIP_ASSETS_DIR") or ROOT / "backend" / "model_assets")

CATEGORICAL = ["island", "sex"]
MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def preprocessing(categorical: list[str], numeric: list[str]) -> ColumnTransformer:
    """Impute gaps, one-hot encode categories (unseen ones ignored), scale numbers."""
    return ColumnTransformer([
        ("categorical", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore")),
        ]), categorical),
        ("numeric", Pipeline([
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
        ]), numeric),
    ])


# ---- data ------------------------------------------------------------------------------------
penguins = pd.read_csv(DATA)
bundle = Bundle(OUT_DIR, data_files=[DATA])

# ---- species: classification -----------------------------------------------------------------
species_data = penguins.dropna(subset=["species"])
species_inputs = CATEGORICAL + MEASUREMENTS
X_train, X_holdout, y_train, y_holdout = train_test_split(
    species_data[species_inputs], species_data["species"],
    test_size=HOLDOUT_SIZE, random_state=SEED, stratify=species_data["species"],
)
species_model = Pipeline([
    ("prepare", preprocessing(CATEGORICAL, MEASUREMENTS)),
    ("classify", LogisticRegression(C=SPECIES_C, max_iter=1000, random_state=SEED)),
]).fit(X_train, y_train)

bundle.add(
    "species", species_model,
    X_train=X_train, X_holdout=X_holdout, y_holdout=y_holdout,
    task="classification", primary_metric="f1_macro", tolerance=0.01,
)

# ---- body_mass: regression -------------------------------------------------------------------
mass_data = penguins.dropna(subset=["body_mass_g"])
mass_categorical = ["species", *CATEGORICAL]
mass_numeric = [m for m in MEASUREMENTS if m != "body_mass_g"]
X_train, X_holdout, y_train, y_holdout = train_test_split(
    mass_data[mass_categorical + mass_numeric], mass_data["body_mass_g"],
    test_size=HOLDOUT_SIZE, random_state=SEED, stratify=mass_data["species"],
)
body_mass_model = Pipeline([
    ("prepare", preprocessing(mass_categorical, mass_numeric)),
    ("regress", Ridge(alpha=BODY_MASS_ALPHA)),
]).fit(X_train, y_train)

bundle.add(
    "body_mass", body_mass_model,
    X_train=X_train, X_holdout=X_holdout, y_holdout=y_holdout,
    task="regression", primary_metric="mae", tolerance=5.0, unit="g",
)

# ---- save ------------------------------------------------------------------------------------
manifest = bundle.save()
for name, entry in manifest.models.items():
    scores = ", ".join(f"{metric} {value:.4f}" for metric, value in entry.metrics.items())
    print(f"{name}: {scores}")
print(f"saved {len(manifest.models)} models to {OUT_DIR}")
