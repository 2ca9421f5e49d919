"""Bundle.save swaps a whole release in, and on any failure leaves the previous one as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubship import bundle as bundle_module
from hubship.bundle import Bundle
from hubship.errors import BundleError
from hubship.manifest import Manifest, sha256_file


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): sha256_file(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _save(out_dir: Path, toy_data, classifier, *names: str) -> Manifest:  # type: ignore[no-untyped-def]
    bundle = Bundle(out_dir)
    for name in names:
        bundle.add(name, classifier, X_train=toy_data["X_train"],
                   X_holdout=toy_data["X_holdout"], y_holdout=toy_data["label_holdout"],
                   task="classification", primary_metric="accuracy")
    return bundle.save()


def test_new_release_replaces_the_old_one_whole(tmp_path, toy_data, classifier):
    out_dir = tmp_path / "model_assets"
    _save(out_dir, toy_data, classifier, "first", "second")
    (out_dir / "README.md").write_text("card of the old release")
    manifest = _save(out_dir, toy_data, classifier, "third")

    assert set(_snapshot(out_dir)) == {"manifest.json", "models/third.joblib",
                                       "holdout/third.parquet"}
    assert Manifest.read(out_dir) == manifest
    manifest.verify_files(out_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_assets"]  # no leftovers


def test_save_creates_missing_parent_folders(tmp_path, toy_data, classifier):
    out_dir = tmp_path / "a" / "b" / "model_assets"
    _save(out_dir, toy_data, classifier, "m")
    Manifest.read(out_dir).verify_files(out_dir)


def test_failure_while_writing_leaves_the_old_release_intact(
        tmp_path, toy_data, classifier, monkeypatch):
    out_dir = tmp_path / "model_assets"
    _save(out_dir, toy_data, classifier, "old")
    before = _snapshot(out_dir)

    def disk_full(self, folder):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Manifest, "write", disk_full)
    with pytest.raises(BundleError, match="No space left on device") as caught:
        _save(out_dir, toy_data, classifier, "new")
    assert "previous release is untouched" in caught.value.hint
    assert _snapshot(out_dir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_assets"]


def test_failure_while_swapping_puts_the_old_release_back(
        tmp_path, toy_data, classifier, monkeypatch):
    out_dir = tmp_path / "model_assets"
    _save(out_dir, toy_data, classifier, "old")
    before = _snapshot(out_dir)
    real_rename = os.rename

    def rename(src, dst):  # type: ignore[no-untyped-def]
        if Path(dst) == out_dir and ".new-" in Path(src).name:
            raise OSError(5, "Input/output error")
        return real_rename(src, dst)

    monkeypatch.setattr(bundle_module.os, "rename", rename)
    with pytest.raises(BundleError, match="Input/output error"):
        _save(out_dir, toy_data, classifier, "new")
    assert _snapshot(out_dir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_assets"]


def test_refuses_to_replace_a_folder_that_is_not_a_release(tmp_path, toy_data, classifier):
    out_dir = tmp_path / "precious"
    out_dir.mkdir()
    (out_dir / "thesis.tex").write_text("years of work")
    with pytest.raises(BundleError, match="no manifest.json; refusing to replace it"):
        _save(out_dir, toy_data, classifier, "m")
    assert (out_dir / "thesis.tex").read_text() == "years of work"

    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(BundleError, match="is not a folder"):
        _save(a_file, toy_data, classifier, "m")


def test_an_empty_existing_folder_is_fine(tmp_path, toy_data, classifier):
    out_dir = tmp_path / "model_assets"
    out_dir.mkdir()
    _save(out_dir, toy_data, classifier, "m")
    assert (out_dir / "models" / "m.joblib").is_file()


def test_saving_twice_in_one_process_gives_the_same_bytes(tmp_path, toy_data, classifier):
    _save(tmp_path / "one", toy_data, classifier, "m")
    _save(tmp_path / "two", toy_data, classifier, "m")
    one, two = _snapshot(tmp_path / "one"), _snapshot(tmp_path / "two")
    one.pop("manifest.json"), two.pop("manifest.json")
    assert one == two
