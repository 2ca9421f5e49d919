"""`hubship.release` on releases the real training script and publisher made and signed: what
loads, and every way a signed release can be tampered with before it is loaded."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from huggingface_hub import snapshot_download

from hubship.errors import ConfigError, IncompatibleRelease, IntegrityError, SignatureError
from hubship.manifest import MANIFEST_FILE, SIGNATURE_FILE, Manifest
from hubship.release import LOCAL, Trust, check, open_release
from tests.support.trust import copy_release, plant_marker


@pytest.fixture
def signed(publish_signed, trained: Path, registry, tmp_path: Path) -> Path:
    """The trained release, published signed, downloaded the way the backend downloads it
    (a cache snapshot of symlinks), then copied to a plain folder to tamper with."""
    result = publish_signed(trained)
    assert result.signed
    snapshot = Path(snapshot_download(registry.repo_id, revision=result.sha,
                                      cache_dir=tmp_path / "cache",
                                      endpoint=registry.endpoint))
    return snapshot


def signed_files(release_dir: Path) -> list[str]:
    manifest = Manifest.read(release_dir)
    return [MANIFEST_FILE, *(ref.file for ref in manifest.files())]


def test_a_signed_release_loads_from_a_cache_snapshot_and_says_it_was_verified(signed, keys):
    assert any(path.is_symlink() for path in signed.rglob("*.joblib"))  # the HF cache layout
    checked, models = open_release(signed, Trust(keys[0].public), origin="v1")
    assert checked.verified
    assert set(models) == {"species", "body_mass"}
    assert hasattr(models["species"], "predict_proba")


def test_without_a_verify_key_nothing_is_verified(signed):
    checked = check(signed, LOCAL, origin="v1")
    assert not checked.verified


def test_the_marker_pickle_does_run_when_loaded_without_a_signature_check(trained, tmp_path):
    """The control for every "marker absent" assertion: this file does run code."""
    marker = tmp_path / "marker"
    plant_marker(trained, marker)
    _, models = open_release(trained, LOCAL, origin="local")
    assert marker.read_text() == "ran"
    assert models["species"] is None  # exec's result: a real attack would return a model too


def test_one_byte_changed_in_any_signed_file_is_refused(signed, keys, tmp_path):
    names = signed_files(signed)
    assert {"manifest.json", "models/species.joblib", "holdout/body_mass.parquet"} <= set(names)
    for name in names:
        copy = copy_release(signed, tmp_path / name.replace("/", "_"))
        data = bytearray((copy / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (copy / name).write_bytes(bytes(data))
        with pytest.raises(SignatureError) as refused:
            check(copy, Trust(keys[0].public), origin="v1")
        assert f"changed after signing: {name}" in refused.value.message, name
        assert "nothing of it was loaded" in refused.value.message


def test_a_model_swapped_with_honest_hashes_is_refused_and_never_unpickled(signed, keys,
                                                                            tmp_path):
    """The attack of issue 12: a new model file and a manifest re-hashed to match it."""
    copy = copy_release(signed, tmp_path / "attacked")
    marker = tmp_path / "marker"
    plant_marker(copy, marker)
    Manifest.read(copy).verify_files(copy)  # every sha256 checks out
    with pytest.raises(SignatureError) as refused:
        open_release(copy, Trust(keys[0].public), origin="v2")
    assert "changed after signing: manifest.json, models/species.joblib" in refused.value.message
    assert not marker.exists()


def test_a_manifest_edited_after_signing_is_refused(signed, keys, tmp_path):
    copy = copy_release(signed, tmp_path / "edited")
    manifest = Manifest.read(copy)
    species = manifest.models["species"]
    better = species.model_copy(update={"metrics": {k: 1.0 for k in species.metrics}})
    manifest.model_copy(update={"models": {**manifest.models, "species": better}}).write(copy)
    with pytest.raises(SignatureError, match="changed after signing: manifest.json"):
        check(copy, Trust(keys[0].public), origin="v1")


@pytest.mark.parametrize(("tamper", "problem"), [
    ("add", "files not covered by the signature: models/extra.joblib"),
    ("remove", "signed files missing: holdout/species.parquet"),
    ("unsigned", "is not signed (no manifest.sig)"),
    ("truncated", "manifest.sig is not a signature bundle"),
    ("empty", "manifest.sig is not a signature bundle"),
    ("not json", "manifest.sig is not a signature bundle"),
    ("forged", "is not a valid signature by the configured key"),
])
def test_a_damaged_release_or_signature_is_refused_with_the_reason(signed, keys, tmp_path,
                                                                   tamper, problem):
    copy = copy_release(signed, tmp_path / "damaged")
    signature = copy / SIGNATURE_FILE
    if tamper == "add":
        (copy / "models" / "extra.joblib").write_bytes(b"extra")
    elif tamper == "remove":
        (copy / "holdout" / "species.parquet").unlink()
    elif tamper == "unsigned":
        signature.unlink()
    elif tamper == "truncated":
        signature.write_bytes(signature.read_bytes()[:200])
    elif tamper == "empty":
        signature.write_bytes(b"")
    elif tamper == "not json":
        signature.write_text("signed, honestly")
    elif tamper == "forged":  # the statement edited to list other digests: the bytes differ
        bundle = json.loads(signature.read_bytes())
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        statement["predicate"]["resources"][0]["digest"] = "0" * 64
        bundle["dsseEnvelope"]["payload"] = base64.b64encode(
            json.dumps(statement).encode()).decode()
        signature.write_text(json.dumps(bundle))
    with pytest.raises(SignatureError) as refused:
        check(copy, Trust(keys[0].public), origin="v1")
    assert problem in refused.value.message
    assert refused.value.hint


def test_a_release_signed_with_another_key_is_refused(publish_signed, trained, registry,
                                                      foreign_keys, keys, tmp_path):
    result = publish_signed(trained, key=foreign_keys[0])
    snapshot = registry.fetch(result.sha)
    with pytest.raises(SignatureError, match="was made with another key"):
        check(snapshot, Trust(keys[0].public), origin="v1")
    assert check(snapshot, Trust(foreign_keys[0].public), origin="v1").verified


def test_version_mismatch_is_checked_after_the_signature_and_refused_at_load(signed, keys):
    checked = check(signed, Trust(keys[0].public), origin="v1")
    assert checked.incompatible is None
    old = checked.manifest.model_copy(update={"environment": checked.manifest.environment
                                               .model_copy(update={"packages": {
                                                   "scikit-learn": "0.24.2"}})})
    from dataclasses import replace

    from hubship.release import version_problem

    stale = replace(checked, manifest=old, incompatible=version_problem(old))
    with pytest.raises(IncompatibleRelease, match="scikit-learn 0.24.2"):
        stale.load("species")


@pytest.mark.parametrize("variable", ["HUBSHIP_VERIFY_KEY", "HUBSHIP_SIGNING_KEY"])
def test_a_malformed_key_is_a_config_error_that_never_echoes_it(variable, keys, monkeypatch):
    from hubship.config import Settings

    junk = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----"
    if variable == "HUBSHIP_VERIFY_KEY":
        junk = junk.replace("PRIVATE", "PUBLIC")
    monkeypatch.setenv(variable, junk)
    with pytest.raises(ConfigError) as refused:
        Trust.for_publisher(Settings.load())
    assert variable in refused.value.message and "does not parse" in refused.value.message
    assert "bm90IGEga2V5" not in str(refused.value)
    assert refused.value.exit_code == 2


def test_publisher_keys_must_form_one_pair(keys, foreign_keys, monkeypatch):
    from hubship.config import Settings

    monkeypatch.setenv("HUBSHIP_SIGNING_KEY", str(keys[1]))
    monkeypatch.setenv("HUBSHIP_VERIFY_KEY", str(foreign_keys[2]))
    with pytest.raises(ConfigError, match="not the public half of HUBSHIP_SIGNING_KEY"):
        Trust.for_publisher(Settings.load())
    monkeypatch.setenv("HUBSHIP_VERIFY_KEY", keys[2].read_text())  # PEM text works too
    trust, key = Trust.for_publisher(Settings.load())
    assert trust.verify_key == keys[0].public and key == keys[0]
    monkeypatch.delenv("HUBSHIP_SIGNING_KEY")
    with pytest.raises(ConfigError, match="would be unsigned"):
        Trust.for_publisher(Settings.load())
    assert Trust.for_publisher(Settings.load(), dry_run=True)[1] is None


def test_a_model_file_swapped_after_the_check_is_refused_unrun(trained, tmp_path):
    """The bytes unpickled are the bytes hashed, in the backend (thread worker) and in an
    inference process (which loads the files the backend checked): a file replaced between
    the check and the load is refused, and never runs."""
    from hubship.serving.inference_process import ModelToLoad, open_models

    checked = check(trained, LOCAL, origin="local")
    files = checked.model_files()
    marker = tmp_path / "marker"
    plant_marker(trained, marker)  # after the check: a new file, and a manifest to match
    with pytest.raises(IntegrityError, match="changed after its release was verified"):
        checked.load("species")
    with pytest.raises(IntegrityError, match="changed after its release was verified"):
        open_models({"species": ModelToLoad(files["species"], "classification", None, None)})
    assert not marker.exists()
