"""The champion/challenger gate over release directories (no Hub needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubship.errors import IncompatibleRelease, IntegrityError
from hubship.gate import SCHEMA_CHANGED, ChampionUnusable, GateError, gate
from hubship.manifest import Manifest, sha256_file


def _edit_model(release_dir: Path, name: str, **changes) -> Path:
    """Rewrite one model's manifest entry (its files are untouched, so hashes still match)."""
    manifest = Manifest.read(release_dir)
    entry = manifest.models[name].model_copy(update=changes)
    manifest.model_copy(update={"models": {**manifest.models, name: entry}}).write(release_dir)
    return release_dir


def _primary(release_dir: Path, model: str, **changes) -> Path:
    entry = Manifest.read(release_dir).models[model]
    return _edit_model(release_dir, model,
                       primary_metric=entry.primary_metric.model_copy(update=changes))


def test_first_release_has_no_champion_and_passes(trained: Path) -> None:
    report = gate(None, trained)
    assert report.passed
    assert {row.model: row.verdict for row in report.rows} == {"species": "new",
                                                                "body_mass": "new"}
    assert all(row.challenger is not None for row in report.rows)


def test_the_same_release_passes_with_zero_delta(trained: Path, trained_once: Path) -> None:
    report = gate(trained_once, trained)
    assert report.passed
    assert [row.delta for row in report.rows] == [0.0, 0.0]
    assert {row.verdict for row in report.rows} == {"same"}


def test_a_dummy_classifier_is_refused(trained_once: Path, worse: Path) -> None:
    report = gate(trained_once, worse)
    assert not report.passed
    (row,) = report.worse
    assert (row.model, row.metric) == ("species", "f1_macro")
    assert row.challenger < row.champion - 0.5
    text = report.markdown()
    assert "| species | f1_macro |" in text and "worse" in text


def test_the_gate_scores_models_itself_not_the_manifest_metrics(
    trained_once: Path, worse: Path
) -> None:
    manifest = Manifest.read(worse)
    species = manifest.models["species"]
    lying = species.model_copy(update={"metrics": {k: 1.0 for k in species.metrics}})
    manifest.model_copy(update={"models": {**manifest.models, "species": lying}}).write(worse)
    assert not gate(trained_once, worse).passed


def test_a_tampered_model_file_is_refused_before_unpickling(
    trained_once: Path, trained: Path
) -> None:
    model = trained / Manifest.read(trained).models["species"].file
    model.write_bytes(model.read_bytes()[:-1] + b"\0")
    with pytest.raises(IntegrityError, match="species.joblib"):
        gate(trained_once, trained)


def test_schema_change_compares_with_the_champions_stored_metric(
    tmp_path: Path, bundle_species
) -> None:
    champion = bundle_species(tmp_path / "old", inputs=["island", "bill_length_mm",
                                                        "flipper_length_mm"])
    challenger = bundle_species(tmp_path / "new", inputs=["bill_length_mm", "bill_depth_mm",
                                                          "flipper_length_mm"])
    report = gate(champion, challenger)
    (row,) = report.rows
    stored = Manifest.read(champion).models["species"].metrics["f1_macro"]
    assert row.note == SCHEMA_CHANGED
    assert row.champion == stored
    # training is seeded: the new inputs score a little higher than the stored record
    assert (row.verdict, report.passed) == ("better", True)


def test_a_worse_model_with_a_schema_change_is_still_refused(
    tmp_path: Path, bundle_species
) -> None:
    from sklearn.dummy import DummyClassifier

    champion = bundle_species(tmp_path / "old", inputs=["island", "bill_length_mm",
                                                        "flipper_length_mm"])
    challenger = bundle_species(tmp_path / "new", inputs=["bill_depth_mm", "body_mass_g"],
                                model=DummyClassifier(strategy="most_frequent"))
    report = gate(champion, challenger)
    (row,) = report.rows
    assert (row.verdict, row.note, report.passed) == ("worse", SCHEMA_CHANGED, False)


def test_a_changed_primary_metric_is_refused_whatever_its_tolerance(
    trained_once: Path, trained: Path
) -> None:
    _primary(trained, "species", name="accuracy", tolerance=1.0)
    report = gate(trained_once, trained)
    row = next(row for row in report.rows if row.model == "species")
    assert row.verdict == "incomparable" and not report.passed
    assert row.note == "cannot compare: primary metric changed from f1_macro to accuracy"
    assert "species: cannot compare" in report.summary()


def test_schema_and_metric_changed_is_refused_not_new(tmp_path: Path, bundle_species) -> None:
    champion = bundle_species(tmp_path / "old", inputs=["island", "bill_length_mm",
                                                        "flipper_length_mm"])
    challenger = bundle_species(tmp_path / "new", inputs=["bill_depth_mm", "body_mass_g"])
    _primary(challenger, "species", name="accuracy")
    report = gate(champion, challenger)
    (row,) = report.rows
    assert (row.verdict, report.passed) == ("incomparable", False)
    assert "primary metric changed from f1_macro to accuracy" in row.note


def test_the_stricter_tolerance_of_the_two_applies(trained_once: Path, worse: Path,
                                                   tmp_path: Path) -> None:
    import shutil

    # a lenient challenger does not loosen the champion's tolerance (0.01)...
    _primary(worse, "species", tolerance=1.0)
    assert {r.model: r.verdict for r in gate(trained_once, worse).rows}["species"] == "worse"
    # ...and a lenient champion does not loosen the challenger's
    lenient = _primary(Path(shutil.copytree(trained_once, tmp_path / "lenient")), "species",
                       tolerance=1.0)
    _primary(worse, "species", tolerance=0.01)
    assert {r.model: r.verdict for r in gate(lenient, worse).rows}["species"] == "worse"
    # only when both allow it does the loss pass, as "same"
    _primary(worse, "species", tolerance=1.0)
    report = gate(lenient, worse)
    assert {r.model: r.verdict for r in report.rows}["species"] == "same" and report.passed


def test_a_champion_from_another_scikit_learn_is_not_unpickled(
    trained_once: Path, trained: Path, tmp_path: Path, pickled_with
) -> None:
    import shutil

    champion = pickled_with(Path(shutil.copytree(trained_once, tmp_path / "old")), "0.24.2")
    report = gate(champion, trained)
    stored = Manifest.read(champion).models
    for row in report.rows:
        assert row.champion == stored[row.model].metrics[row.metric]
        assert row.note.startswith("champion pickled with scikit-learn 0.24.2, installed ")
        assert row.note.endswith("champion's stored metric")


def test_a_challenger_from_another_scikit_learn_is_refused(trained_once: Path, trained: Path,
                                                          pickled_with) -> None:
    with pytest.raises(IncompatibleRelease, match="pickled with scikit-learn 0.24.2"):
        gate(trained_once, pickled_with(trained, "0.24.2"))


def test_a_tampered_champion_is_unusable(trained_once: Path, trained: Path, tmp_path) -> None:
    import shutil

    champion = Path(shutil.copytree(trained_once, tmp_path / "old"))
    model = champion / "models" / "species.joblib"
    model.write_bytes(model.read_bytes()[:-1] + b"\0")
    with pytest.raises(ChampionUnusable, match="champion release is unusable.*species.joblib"):
        gate(champion, trained)


@pytest.mark.filterwarnings("ignore:X has feature names")
def test_a_challenger_that_cannot_score_its_holdout_names_the_model(
    trained_once: Path, trained: Path
) -> None:
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    two_features = LogisticRegression().fit(np.array([[0.0, 1.0], [1.0, 0.0]]), ["a", "b"])
    path = trained / "models" / "species.joblib"
    joblib.dump(two_features, path)
    _edit_model(trained, "species", sha256=sha256_file(path), size=path.stat().st_size)
    with pytest.raises(GateError, match="model 'species' cannot be scored") as caught:
        gate(trained_once, trained)
    assert caught.value.hint


def test_a_removed_model_refuses_and_an_added_one_passes(
    trained_once: Path, tmp_path: Path, bundle_species
) -> None:
    only_species = bundle_species(tmp_path / "one", inputs=["bill_length_mm", "bill_depth_mm",
                                                            "flipper_length_mm"])
    shrunk = gate(trained_once, only_species)
    assert {row.model: row.verdict for row in shrunk.rows}["body_mass"] == "removed"
    assert not shrunk.passed
    assert "body_mass was removed: clients calling /models/body_mass/predict will get 404" in \
        shrunk.summary()
    grown = gate(only_species, trained_once)
    assert {row.model: row.verdict for row in grown.rows}["body_mass"] == "new"
    assert grown.passed


def test_a_renamed_model_is_a_removal_and_refuses(tmp_path: Path, bundle_species) -> None:
    inputs = ["island", "bill_length_mm", "flipper_length_mm"]
    champion = bundle_species(tmp_path / "old", inputs=inputs)
    renamed = bundle_species(tmp_path / "new", inputs=inputs, name="species2")
    report = gate(champion, renamed)
    assert {row.model: row.verdict for row in report.rows} == {"species2": "new",
                                                                "species": "removed"}
    assert not report.passed
    assert "species was removed: clients calling /models/species/predict will get 404" in \
        report.summary()
