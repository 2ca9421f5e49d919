"""The release manifest refuses what would break a later step, and says exactly what is wrong."""

from __future__ import annotations

import json

import pytest

from hubship.errors import IntegrityError, ManifestError
from hubship.manifest import Manifest, sha256_file

CLASSIFIER = {
    "file": "models/species.joblib", "sha256": "0" * 64, "size": 10,
    "task": "classification", "estimator": "sklearn.linear_model.LogisticRegression",
    "inputs": [{"name": "bill_length_mm", "type": "number", "min": 30.0, "max": 60.0}],
    "output": {"target": "species", "classes": ["Adelie", "Gentoo"]},
    "metrics": {"f1_macro": 0.9, "accuracy": 0.95},
    "primary_metric": {"name": "f1_macro", "higher_is_better": True, "tolerance": 0.01},
    "holdout": {"file": "holdout/species.parquet", "sha256": "1" * 64, "size": 5},
}


def _manifest(**changes) -> dict:
    model = {**CLASSIFIER, **changes.pop("model", {})}
    return {
        "format": "hubship/1", "created_at": "2026-11-26T06:00:00Z",
        "environment": {"python": "3.11.7", "packages": {"scikit-learn": "1.9.1"}},
        "models": {"species": model}, **changes,
    }


def _parse(data: dict) -> Manifest:
    return Manifest.parse(json.dumps(data))


def test_a_valid_manifest_round_trips_byte_for_byte():
    manifest = _parse(_manifest())
    assert Manifest.parse(manifest.dumps()).dumps() == manifest.dumps()
    assert manifest.dumps().count('"created_at": "2026-11-26T06:00:00Z"') == 1


@pytest.mark.parametrize(("data", "expected"), [
    (_manifest(format="hubship/9"), "unknown manifest format 'hubship/9'"),
    (_manifest(model={"metrics": {"f1_macro": float("nan")}}), "models.species.metrics.f1_macro"),
    (_manifest(model={"primary_metric": {"name": "auc", "higher_is_better": True}}),
     "primary metric 'auc' is not among the metrics"),
    (_manifest(model={"file": "README.md"}), "must live at models/species.joblib"),
    (_manifest(model={"file": "../../etc/passwd"}), "must be a relative path inside the release"),
    (_manifest(model={"output": {"target": "species"}}), "must list its output classes"),
    (_manifest(model={"inputs": [{"name": "island", "type": "category"}]}),
     "is a category but lists no values"),
    (_manifest(created_at="2026-11-26T06:00:00"), "created_at must carry a timezone"),
    ({**_manifest(), "models": {}}, "models"),
])
def test_a_broken_manifest_is_refused_naming_the_field(data: dict, expected: str):
    with pytest.raises(ManifestError) as caught:
        _parse(data)
    assert expected in str(caught.value)
    assert caught.value.hint


def test_not_json_is_refused_with_the_origin_named():
    with pytest.raises(ManifestError, match="release/manifest.json is not valid JSON"):
        Manifest.parse("{not json", origin="release/manifest.json")


def test_verify_files_catches_a_tampered_file(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "holdout").mkdir()
    model = tmp_path / "models" / "species.joblib"
    holdout = tmp_path / "holdout" / "species.parquet"
    model.write_bytes(b"model bytes")
    holdout.write_bytes(b"holdout")
    manifest = _parse(_manifest(model={
        "sha256": sha256_file(model), "size": model.stat().st_size,
        "holdout": {"file": "holdout/species.parquet", "sha256": sha256_file(holdout),
                    "size": holdout.stat().st_size},
    }))
    manifest.verify_files(tmp_path)  # intact: no error

    model.write_bytes(b"MODEL bytes")  # same size, other content
    with pytest.raises(IntegrityError, match="models/species.joblib: sha256"):
        manifest.verify_files(tmp_path)
    model.unlink()
    with pytest.raises(IntegrityError, match="missing from the release"):
        manifest.verify_files(tmp_path)
