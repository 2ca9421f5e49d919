"""Models beyond the penguins, as one release: what `models/train.py` can become for yours.

  reviews   a text classifier: TF-IDF + logistic regression on short product reviews (is a
            review positive or negative?); the `review` column is mostly unique text, so
            hubship infers a text input (and prints that decision)
  digits    a classifier trained on a numpy array (scikit-learn's 8x8 digit images, as a
            sparse matrix): its inputs are x0..x63, and a predict body may be a plain list
            of 64 numbers
  wine      LightGBM's scikit-learn API (pip install lightgbm): the manifest records
            lightgbm's version, and a backend without that version refuses to load it

Pin every package a model needs in requirements.txt (lightgbm==... here): the backend checks
each against the version the model was saved with.

The reviews are made up from phrases (deterministic, no download): real ones would be read
from a file passed as `data_files`.

Run: HUBSHIP_ASSETS_DIR=/tmp/examples python examples/train.py
"""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

import pandas as pd
from lightgbm import LGBMClassifier
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, load_wine
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler

from hubship.bundle import Bundle

SEED = 7
ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = Path(os.environ.get("HUBSHIP_ASSETS_DIR") or ROOT / "backend" / "model_assets")

PRODUCTS = ["kettle", "lamp", "backpack", "headset", "blender", "tent", "keyboard", "jacket"]
GOOD = ["works perfectly", "is great value", "arrived quickly and works well",
        "exceeded my expectations", "is sturdy and reliable", "is a pleasure to use"]
BAD = ["broke after a week", "is a waste of money", "stopped working quickly",
       "arrived damaged", "is flimsy and unreliable", "was a disappointment"]
ENDINGS = ["", " I would buy it again.", " Five stars.", " Avoid it.", " Returned it.",
           " My family noticed too."]


def reviews() -> pd.DataFrame:
    """Short reviews with their sentiment (the ending may contradict: not every word tells)."""
    rng = random.Random(SEED)
    rows = []
    for product, (phrase, positive), ending in itertools.product(
            PRODUCTS, [(g, "positive") for g in GOOD] + [(b, "negative") for b in BAD], ENDINGS):
        rows.append({"review": f"The {product} {phrase}.{ending}", "sentiment": positive})
    rng.shuffle(rows)
    return pd.DataFrame(rows)


bundle = Bundle(OUT_DIR)

# ---- reviews: text -> TF-IDF -> logistic regression -------------------------------------------
text = reviews()
X_train, X_holdout, y_train, y_holdout = train_test_split(
    text[["review"]], text["sentiment"], test_size=0.25, random_state=SEED,
    stratify=text["sentiment"])
reviews_model = Pipeline([
    ("features", ColumnTransformer([("tfidf", TfidfVectorizer(ngram_range=(1, 2)), "review")])),
    ("classify", LogisticRegression(max_iter=1000)),
]).fit(X_train, y_train)
bundle.add("reviews", reviews_model, X_train=X_train, X_holdout=X_holdout, y_holdout=y_holdout,
           task="classification", primary_metric="f1_macro", max_text_length=2000)

# ---- digits: a sparse array, no column names ---------------------------------------------------
digits = load_digits()
X_train, X_holdout, y_train, y_holdout = train_test_split(
    sparse.csr_matrix(digits.data), pd.Series(digits.target, name="digit"), test_size=0.25,
    random_state=SEED, stratify=digits.target)
digits_model = Pipeline([("scale", MaxAbsScaler()),
                         ("classify", LogisticRegression(max_iter=2000))]).fit(X_train, y_train)
bundle.add("digits", digits_model, X_train=X_train, X_holdout=X_holdout, y_holdout=y_holdout,
           task="classification", primary_metric="accuracy")

# ---- wine: LightGBM ----------------------------------------------------------------------------
wine = load_wine(as_frame=True)
features = wine.data.rename(columns=lambda c: c.replace("/", "_"))
X_train, X_holdout, y_train, y_holdout = train_test_split(
    features, wine.target.rename("cultivar"), test_size=0.25, random_state=SEED,
    stratify=wine.target)
wine_model = LGBMClassifier(n_estimators=50, learning_rate=0.1, num_leaves=15, random_state=SEED,
                            deterministic=True, force_row_wise=True, n_jobs=1, verbose=-1)
wine_model.fit(X_train, y_train)
bundle.add("wine", wine_model, X_train=X_train, X_holdout=X_holdout, y_holdout=y_holdout,
           task="classification", primary_metric="f1_macro",
           limits={"alcohol": (0, 100)})  # a percentage: anything else is an error

# ---- save --------------------------------------------------------------------------------------
manifest = bundle.save()
for name, entry in manifest.models.items():
    scores = ", ".join(f"{metric} {value:.4f}" for metric, value in entry.metrics.items())
    print(f"{name}: {scores}")
print(f"saved {len(manifest.models)} models to {OUT_DIR}")
