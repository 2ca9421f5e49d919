"""`python models/train.py`: deterministic bytes, a valid manifest, reproducible metrics."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import joblib
import pyarrow.parquet as pq

from hubship.holdout import read_holdout
from hubship.manifest import Manifest, sha256_file
from hubship.scoring import compute_metrics

ROOT = Path(__file__).resolve().parents[2]


def _files(release: Path) -> dict[str, str]:
    return {p.relative_to(release).as_posix(): sha256_file(p)
            for p in sorted(release.rglob("*")) if p.is_file()}


def test_two_runs_write_identical_models_and_holdout_sets(two_releases):
    first, second = two_releases
    one, two = Manifest.read(first), Manifest.read(second)
    assert one.model_hashes() == two.model_hashes()
    assert [ref.sha256 for ref in one.files()] == [ref.sha256 for ref in two.files()]
    hashes_one, hashes_two = _files(first), _files(second)
    hashes_one.pop("manifest.json"), hashes_two.pop("manifest.json")
    assert hashes_one == hashes_two
    assert set(hashes_one) == {"models/species.joblib", "models/body_mass.joblib",
                               "holdout/species.parquet", "holdout/body_mass.parquet"}
    # only the timestamp may differ in the manifest
    raw_one = json.loads((first / "manifest.json").read_text())
    raw_two = json.loads((second / "manifest.json").read_text())
    raw_one.pop("created_at"), raw_two.pop("created_at")
    # the git state is the checkout's, which others may commit to between the two runs
    source_one, source_two = raw_one.pop("source"), raw_two.pop("source")
    assert raw_one == raw_two
    if source_one["git_commit"] == source_two["git_commit"]:
        assert source_one["git_ref"] == source_two["git_ref"]


def test_manifest_validates_and_vouches_for_every_file(two_releases):
    release = two_releases[0]
    manifest = Manifest.read(release)
    manifest.verify_files(release)
    assert Manifest.parse(manifest.dumps()) == manifest
    assert manifest.release is None
    assert manifest.data == {"data/penguins.csv": sha256_file(ROOT / "data" / "penguins.csv")}
    assert set(manifest.environment.packages) >= {"scikit-learn", "numpy", "joblib", "pandas",
                                                  "hubship"}
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=False).stdout.strip()
    if head:  # running from a git checkout: the commit trained on is HEAD or an ancestor
        ancestor = subprocess.run(
            ["git", "merge-base", "--is-ancestor", manifest.source.git_commit, head],
            cwd=ROOT, check=False,
        )
        assert ancestor.returncode == 0
        assert manifest.source.git_dirty is not None


def test_saved_models_reproduce_the_manifest_metrics_on_the_saved_holdout(two_releases):
    release = two_releases[0]
    manifest = Manifest.read(release)
    for name, entry in manifest.models.items():
        model = joblib.load(release / entry.file)
        X, y = read_holdout(release / entry.holdout.file, target=entry.output.target)
        assert list(X.columns) == [spec.name for spec in entry.inputs], name
        assert compute_metrics(entry.task, model, X, y, names=list(entry.metrics)) == \
            entry.metrics, name


def test_penguin_models_describe_their_inputs_and_outputs(two_releases):
    manifest = Manifest.read(two_releases[0])
    species, body_mass = manifest.models["species"], manifest.models["body_mass"]

    assert species.task == "classification"
    assert species.output.target == "species"
    assert species.output.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert set(species.metrics) == {"accuracy", "f1_macro", "log_loss"}
    assert species.primary_metric.name == "f1_macro"
    assert species.primary_metric.higher_is_better
    inputs = {spec.name: spec for spec in species.inputs}
    assert inputs["island"].type == "category"
    assert inputs["island"].values == ["Biscoe", "Dream", "Torgersen"]
    assert inputs["sex"].nullable and inputs["sex"].values == ["female", "male"]
    assert inputs["bill_length_mm"].type == "number"
    assert 30 < inputs["bill_length_mm"].min < inputs["bill_length_mm"].max < 65

    assert body_mass.task == "regression"
    assert body_mass.output.target == "body_mass_g" and body_mass.output.unit == "g"
    assert set(body_mass.metrics) == {"mae", "rmse", "r2"}
    assert body_mass.primary_metric.name == "mae"
    assert not body_mass.primary_metric.higher_is_better
    assert "body_mass_g" not in {spec.name for spec in body_mass.inputs}
    assert body_mass.metrics["r2"] > 0.7


def test_holdout_sets_are_plain_parquet_with_the_target(two_releases):
    release = two_releases[0]
    manifest = Manifest.read(release)
    for entry in manifest.models.values():
        table = pq.read_table(release / entry.holdout.file)
        assert table.column_names == [s.name for s in entry.inputs] + [entry.output.target]
        assert table.column(entry.output.target).null_count == 0
        assert 50 < table.num_rows < 120  # a quarter of 342-344 penguins
