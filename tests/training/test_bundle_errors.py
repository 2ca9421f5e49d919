"""Bad input to Bundle.add/save: a BundleError naming the model, the problem and a fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hubship.bundle import Bundle
from hubship.errors import BundleError


@pytest.fixture
def bundle(tmp_path: Path) -> Bundle:
    return Bundle(tmp_path / "release")


@pytest.fixture
def cls_args(toy_data, classifier):  # type: ignore[no-untyped-def]
    return {"model": classifier, "X_train": toy_data["X_train"],
            "X_holdout": toy_data["X_holdout"], "y_holdout": toy_data["label_holdout"],
            "task": "classification", "primary_metric": "accuracy"}


@pytest.fixture
def reg_args(toy_data, regressor):  # type: ignore[no-untyped-def]
    return {"model": regressor, "X_train": toy_data["X_train"],
            "X_holdout": toy_data["X_holdout"], "y_holdout": toy_data["amount_holdout"],
            "task": "regression", "primary_metric": "mae"}


def _refused(bundle: Bundle, name: str, args: dict, problem: str) -> BundleError:
    with pytest.raises(BundleError, match=problem) as caught:
        bundle.add(name, **args)
    assert f"model {name!r}" in caught.value.message
    assert caught.value.hint
    assert name not in bundle.entries
    return caught.value


def test_good_models_are_accepted(bundle, cls_args, reg_args):
    entry = bundle.add("labels", **cls_args)
    assert entry.output.classes == ["a", "b", "c"] and entry.output.target == "label"
    assert bundle.add("amounts", **reg_args).task == "regression"


def test_unfitted_model(bundle, cls_args, make_pipeline):
    from sklearn.linear_model import LogisticRegression

    _refused(bundle, "m", {**cls_args, "model": make_pipeline(LogisticRegression())},
             "not fitted")


def test_not_an_estimator(bundle, cls_args):
    _refused(bundle, "m", {**cls_args, "model": object()}, "not a scikit-learn estimator")


def test_holdout_columns_the_model_was_not_trained_on(bundle, cls_args):
    holdout = cls_args["X_holdout"].rename(columns={"size": "weight"})
    error = _refused(bundle, "m", {**cls_args, "X_holdout": holdout}, "columns differ")
    assert "['weight']" in error.message and "['size']" in error.message


def test_training_frame_other_than_the_one_fitted(bundle, cls_args):
    X = cls_args["X_train"][["colour", "size", "count"]]
    holdout = cls_args["X_holdout"][["colour", "size", "count"]]
    _refused(bundle, "m", {**cls_args, "X_train": X, "X_holdout": holdout}, "fitted on columns")


@pytest.mark.parametrize("which", ["X_train", "X_holdout"])
def test_empty_frames(bundle, cls_args, which):
    _refused(bundle, "m", {**cls_args, which: cls_args[which].iloc[:0]}, f"{which} is empty")


def test_one_class_classification_target(bundle, cls_args, toy_data):
    from sklearn.dummy import DummyClassifier

    one_class = DummyClassifier().fit(toy_data["X_train"], ["a"] * len(toy_data["X_train"]))
    _refused(bundle, "m", {**cls_args, "model": one_class}, "1 class")


def test_one_class_holdout(bundle, cls_args):
    y = pd.Series(["a"] * len(cls_args["y_holdout"]), name="label")
    _refused(bundle, "m", {**cls_args, "y_holdout": y}, "only one class")


def test_holdout_class_the_model_never_saw(bundle, cls_args):
    y = cls_args["y_holdout"].copy()
    y.iloc[0] = "z"
    _refused(bundle, "m", {**cls_args, "y_holdout": y}, "never saw.*'z'")


@pytest.mark.parametrize(("metrics", "primary", "problem"), [
    (None, "accuracy_score", "unknown classification metric 'accuracy_score'"),
    (["accuracy", "nope"], "accuracy", "unknown classification metric 'nope'"),
    (["mae"], "mae", "unknown classification metric 'mae'"),
    (["accuracy"], "f1_macro", "primary metric 'f1_macro' is not among the metrics"),
    ([], "accuracy", "no metrics"),
])
def test_metric_names(bundle, cls_args, metrics, primary, problem):
    _refused(bundle, "m", {**cls_args, "metrics": metrics, "primary_metric": primary}, problem)


def test_probability_metric_for_a_model_without_probabilities(bundle, cls_args, toy_data,
                                                              make_pipeline):
    from sklearn.linear_model import RidgeClassifier

    model = make_pipeline(RidgeClassifier()).fit(toy_data["X_train"], toy_data["label_train"])
    _refused(bundle, "m", {**cls_args, "model": model, "metrics": ["accuracy", "log_loss"]},
             "needs predict_proba")
    entry = bundle.add("ridge", **{**cls_args, "model": model})  # defaults leave log_loss out
    assert set(entry.metrics) == {"accuracy", "f1_macro"}


def test_duplicate_model_name(bundle, cls_args):
    bundle.add("m", **cls_args)
    with pytest.raises(BundleError, match="'m' was already added"):
        bundle.add("m", **cls_args)


@pytest.mark.parametrize("name", ["", "has space", "../escape", "-dash-first", "a/b", "x" * 65])
def test_invalid_model_names(bundle, cls_args, name):
    with pytest.raises(BundleError, match="invalid model name"):
        bundle.add(name, **cls_args)


def test_task_and_model_kind_disagree(bundle, cls_args, reg_args):
    _refused(bundle, "m", {**reg_args, "task": "classification",
                           "y_holdout": cls_args["y_holdout"]}, "is a regressor")
    _refused(bundle, "m", {**cls_args, "task": "regression"}, "is a classifier")
    _refused(bundle, "m", {**cls_args, "task": "ranking"}, "unknown task")


def test_target_problems(bundle, cls_args, reg_args):
    _refused(bundle, "m", {**cls_args, "y_holdout": cls_args["y_holdout"].rename(None)},
             "no name")
    _refused(bundle, "m", {**cls_args, "y_holdout": cls_args["y_holdout"].rename("size")},
             "also an input column")
    _refused(bundle, "m", {**cls_args, "y_holdout": cls_args["y_holdout"].iloc[1:]},
             "y_holdout has 14 rows but X_holdout 15")
    gaps = reg_args["y_holdout"].copy()
    gaps.iloc[0] = None
    _refused(bundle, "m", {**reg_args, "y_holdout": gaps}, "1 missing values")
    _refused(bundle, "m", {**cls_args, "y_holdout": list(cls_args["y_holdout"])},
             "not a pandas Series")


def test_negative_tolerance(bundle, reg_args):
    _refused(bundle, "m", {**reg_args, "tolerance": -1}, "tolerance must be a number >= 0")


def test_saving_an_empty_bundle(bundle):
    with pytest.raises(BundleError, match="holds no models"):
        bundle.save()


def test_missing_data_file(tmp_path):
    with pytest.raises(BundleError, match="data files not found"):
        Bundle(tmp_path / "release", data_files=[tmp_path / "nope.csv"])


def test_model_that_cannot_be_pickled(bundle, cls_args, toy_data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    model = Pipeline([
        ("numbers", FunctionTransformer(lambda X: X[["size", "count"]])),
        ("model", LogisticRegression()),
    ]).fit(toy_data["X_train"], toy_data["label_train"])
    _refused(bundle, "m", {**cls_args, "model": model}, "cannot be pickled")
