"""The champion/challenger gate over release directories (no Hub needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubship.errors import IntegrityError
from hubship.gate import SCHEMA_CHANGED, gate
from hubship.manifest import Manifest


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
    (row,) = gate(champion, challenger).rows
    assert row.note == SCHEMA_CHANGED
    assert row.champion == Manifest.read(champion).models["species"].metrics["f1_macro"]


def test_added_and_removed_models_are_reported(
    trained_once: Path, tmp_path: Path, bundle_species
) -> None:
    only_species = bundle_species(tmp_path / "one", inputs=["bill_length_mm", "bill_depth_mm",
                                                            "flipper_length_mm"])
    shrunk = {row.model: row.verdict for row in gate(trained_once, only_species).rows}
    assert shrunk["body_mass"] == "removed"
    grown = gate(only_species, trained_once)
    assert {row.model: row.verdict for row in grown.rows}["body_mass"] == "new"
    assert grown.passed
