"""What Bundle.add records about a model's inputs beyond the frame's dtypes: the example record,
text inputs, declared limits, categories the model takes unseen values of, arrays, and the
packages the pickle needs; and the bad declarations, refused naming the column."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

from hubship.bundle import Bundle
from hubship.errors import BundleError

WORDS = ["good", "bad", "fine", "awful", "great", "poor", "nice", "broken"]


@pytest.fixture
def bundle(tmp_path) -> Bundle:
    return Bundle(tmp_path / "release")


@pytest.fixture
def cls_args(toy_data, classifier) -> dict:
    return {"model": classifier, "X_train": toy_data["X_train"],
            "X_holdout": toy_data["X_holdout"], "y_holdout": toy_data["label_holdout"],
            "task": "classification", "primary_metric": "accuracy"}


@pytest.fixture(scope="module")
def reviews() -> tuple[pd.DataFrame, pd.Series]:
    texts = [f"{a} and {b} item number {i}" for i, (a, b) in enumerate(
        (WORDS[i % 8], WORDS[(i * 3) % 8]) for i in range(80))]
    labels = pd.Series(["pos" if "good" in t or "great" in t else "neg" for t in texts],
                       name="sentiment")
    return pd.DataFrame({"review": texts, "stars": np.arange(80) % 5}), labels


def _text_model(X: pd.DataFrame, y: pd.Series) -> Pipeline:
    features = ColumnTransformer([("words", TfidfVectorizer(), "review")],
                                 remainder="passthrough")
    return Pipeline([("features", features), ("model", LogisticRegression())]).fit(X, y)


def test_the_example_record_is_the_training_medians_and_modes(bundle, toy_data, cls_args):
    frame = toy_data["X_train"]
    entry = bundle.add("toy", **cls_args)
    assert entry.example == {"size": float(frame["size"].median()),
                             "count": int(round(frame["count"].median())),
                             "colour": frame["colour"].mode().sort_values().iloc[0]}
    assert isinstance(entry.example["count"], int)
    assert entry.packages == ["numpy", "scikit-learn"]
    assert not entry.array


def test_a_mostly_unique_string_column_is_text_and_the_decision_is_printed(
    bundle, reviews, capsys,
):
    X, y = reviews
    entry = bundle.add("reviews", _text_model(X[:60], y[:60]), X_train=X[:60],
                       X_holdout=X[60:], y_holdout=y[60:], task="classification",
                       primary_metric="accuracy", max_text_length=500)
    review = entry.inputs[0]
    assert (review.type, review.max_length, review.values) == ("text", 500, None)
    printed = capsys.readouterr().out
    assert "model 'reviews': input 'review' is text (60 distinct of 60 values)" in printed
    assert entry.inputs[1].type == "integer"  # stars stays a number


def test_text_can_be_declared_and_is_checked(bundle, reviews, toy_data, cls_args):
    X, y = reviews
    few = X.assign(review=X["review"].str.split().str[0])  # 8 words: inferred as a category
    model = _text_model(few[:60], y[:60])
    args = {"X_train": few[:60], "X_holdout": few[60:], "y_holdout": y[60:],
            "task": "classification", "primary_metric": "accuracy"}
    assert bundle.add("inferred", model, **args).inputs[0].type == "category"
    assert bundle.add("declared", model, text=["review"], **args).inputs[0].type == "text"
    with pytest.raises(BundleError, match="training text of 6 characters, longer than "
                                          "max_text_length=3"):
        bundle.add("short", model, text=["review"], max_text_length=3, **args)
    with pytest.raises(BundleError, match=r"text names \['comment'\], which are not columns"):
        bundle.add("other", model, text=["comment"], **args)
    with pytest.raises(BundleError, match="'size' is declared text but holds values that are "
                                          "not strings"):
        bundle.add("numbers", **{**cls_args, "text": ["size"]})


def test_declared_limits_are_hard_and_must_hold_the_training_data(bundle, toy_data, cls_args):
    entry = bundle.add("toy", **cls_args, limits={"size": (0, 100), "count": (None, 10)})
    size, count = entry.inputs[0], entry.inputs[1]
    assert (size.limit_min, size.limit_max) == (0, 100)
    assert (count.limit_min, count.limit_max) == (None, 10)
    assert size.min == float(toy_data["X_train"]["size"].min())  # the training range stays
    for limits, problem in (({"size": (0, 5)}, r"'size' holds \d+ values outside the declared "
                                                r"limits \(0, 5\)"),
                            ({"colour": (0, 1)}, "limits given for 'colour', which is a "
                                                 "category, not a number"),
                            ({"size": 5}, r"limits\['size'\] must be a \(low, high\) pair")):
        with pytest.raises(BundleError, match=problem):
            bundle.add("bad", **cls_args, limits=limits)


def test_categories_are_open_only_when_the_encoder_ignores_unknown_values(
    bundle, toy_data, cls_args,
):
    assert bundle.add("ignores", **cls_args).inputs[2].accepts_unknown  # handle_unknown=ignore
    X, y = toy_data["X_train"], toy_data["label_train"]
    strict = Pipeline([
        ("prepare", ColumnTransformer([("colour", OneHotEncoder(), ["colour"])],
                                      remainder="passthrough")),
        ("model", LogisticRegression(max_iter=500))]).fit(X, y)
    args = {**cls_args, "model": strict}
    assert not bundle.add("strict", **args).inputs[2].accepts_unknown
    assert bundle.add("declared", **args, accept_unknown=["colour"]).inputs[2].accepts_unknown


def test_an_array_is_named_x0_to_xn_or_as_given(bundle):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    y = pd.Series(np.where(X[:, 0] > 0, "up", "down"), name="direction")
    model = make_pipeline(LogisticRegression()).fit(X[:60], y[:60])
    args = {"X_holdout": X[60:], "y_holdout": y[60:], "task": "classification",
            "primary_metric": "accuracy"}
    entry = bundle.add("dense", model, X_train=X[:60], **args)
    assert entry.array and [i.name for i in entry.inputs] == ["x0", "x1", "x2"]
    assert entry.metrics["accuracy"] > 0.8
    sparse_entry = bundle.add("sparse", model, X_train=sparse.csr_matrix(X[:60]),
                              feature_names=["a", "b", "c"],
                              **{**args, "X_holdout": sparse.csr_matrix(X[60:])})
    assert [i.name for i in sparse_entry.inputs] == ["a", "b", "c"]
    assert sparse_entry.metrics == entry.metrics

    for extra, problem in (({"X_train": X[:60, 0]}, "X_train is a 1-D array"),
                           ({"X_train": X[:60].astype(str)}, "is an array of <U"),
                           ({"X_train": X[:60], "feature_names": ["a"]},
                            "feature_names has 1 names for 3 columns"),
                           ({"X_train": X[:60], "X_holdout": pd.DataFrame(X[60:])},
                            "X_train is an array but X_holdout is a DataFrame")):
        with pytest.raises(BundleError, match=problem):
            bundle.add("bad", model, **{**args, **extra})


class DefinedInTheScript:  # stands for a class of the training script (__main__)
    def __init__(self) -> None:
        self.value = 1


def test_a_model_holding_a_class_of_the_training_script_is_refused(bundle, cls_args,
                                                                  monkeypatch):
    # as if the training script defined it: it pickles as __main__.DefinedInTheScript
    monkeypatch.setattr(DefinedInTheScript, "__module__", "__main__")
    monkeypatch.setattr(sys.modules["__main__"], "DefinedInTheScript", DefinedInTheScript,
                        raising=False)
    model = cls_args["model"]
    model.note = DefinedInTheScript()  # an attribute the pickle carries
    try:
        with pytest.raises(BundleError, match=r"defined in the training script itself "
                                              r"\(__main__\)"):
            bundle.add("script", **cls_args)
    finally:
        del model.note
