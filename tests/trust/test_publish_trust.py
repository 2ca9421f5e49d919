"""`hubship publish` and `hubship rollback` with a signing key, as a user runs them: the
champion and a rollback's target are verified before anything of them is unpickled; a release
with honest hashes but no valid signature (the marker pickle) never runs; what the publisher
writes carries no key material. Releases: the real `models/train.py` and publisher."""

from __future__ import annotations

import shutil
from pathlib import Path

import joblib
import pandas as pd
import pytest

from hubship.manifest import SIGNATURE_FILE, Manifest, sha256_file
from hubship.release import LOCAL, Trust, check, open_release
from tests.support.trust import copy_release, hubship_cli, pem_body_lines, plant_marker, upload_raw

pytestmark = pytest.mark.slow


@pytest.fixture
def cli_env(hub_url: str, repo_id: str, keys, tmp_path: Path) -> dict[str, str]:
    return {"HF_ENDPOINT": hub_url, "HF_REPO_ID": repo_id, "HUBSHIP_SIGNING_KEY": str(keys[1]),
            "HUBSHIP_HOME": str(tmp_path / "home")}


@pytest.fixture
def attacked(publish_signed, trained: Path, registry, hf_api, tmp_path: Path) -> Path:
    """v1 published signed; then the marker pickle uploaded on top of it with honest
    sha256s (the old manifest.sig stays on the Hub). Returns the marker's path."""
    publish_signed(trained)
    marker = tmp_path / "marker"
    attack = plant_marker(Path(shutil.copytree(trained, tmp_path / "attack")), marker)
    upload_raw(hf_api, registry.repo_id, attack, tag="v2")
    return marker


def _retrained(trained: Path, tmp_path: Path) -> Path:
    """Another training run's release: body_mass refitted with another penalty (new model
    file, same schema), saved like `replace_model` in tests/publish does."""
    release = copy_release(trained, tmp_path / "retrained")
    manifest = Manifest.read(release)
    entry = manifest.models["body_mass"]
    holdout = pd.read_parquet(release / entry.holdout.file)
    target = entry.output.target
    model = open_release(release, LOCAL, origin="trained")[1]["body_mass"]
    model.set_params(regress__alpha=0.5).fit(holdout.drop(columns=[target]), holdout[target])
    path = release / entry.file
    joblib.dump(model, path)
    entry = entry.model_copy(update={"sha256": sha256_file(path), "size": path.stat().st_size})
    manifest.model_copy(update={"models": {**manifest.models, "body_mass": entry}}).write(release)
    return release


def test_publish_refuses_an_unverifiable_champion_and_never_unpickles_it(
    attacked: Path, trained: Path, cli_env, tmp_path: Path,
):
    challenger = _retrained(trained, tmp_path)
    for extra in ([], ["--dry-run"]):
        done = hubship_cli("publish", "--assets-dir", str(challenger), *extra, env=cli_env)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "the champion release failed signature verification: changed after signing: " \
               "manifest.json, models/species.joblib" in " ".join(done.stderr.split())
        assert "--force" in done.stderr
        assert not attacked.exists()


def test_publish_force_gates_on_stored_metrics_without_unpickling_and_signs(
    attacked: Path, trained: Path, cli_env, registry, keys, tmp_path: Path, hf_api,
):
    challenger = _retrained(trained, tmp_path)
    done = hubship_cli("publish", "--assets-dir", str(challenger), "--force", env=cli_env)
    assert done.returncode == 0, done.stdout + done.stderr
    output = " ".join(done.stdout.split())
    assert "FORCED: the champion release failed signature verification" in output
    assert "not verified: champion's stored metric" in output
    assert "published v3" in output and "(signed)" in output
    assert not attacked.exists()

    head = registry.fetch(registry.refs().head)
    checked = check(head, Trust(keys[0].public), origin="v3")
    assert checked.verified and checked.manifest.forced
    card = (head / "README.md").read_text()
    assert "FORCED release" in card
    commit = hf_api.list_repo_commits(registry.repo_id)[0]
    secret_lines = pem_body_lines(keys[0])
    for text in (done.stdout, done.stderr, card, (head / "manifest.json").read_text(),
                 (head / SIGNATURE_FILE).read_text(), commit.title, commit.message or ""):
        assert not any(line in text for line in secret_lines)
    assert "Signed: manifest.sig (public key sha256" in (commit.message or "")


def test_unchanged_models_under_an_unsigned_head_are_published_again_signed(
    trained: Path, registry, cli_env, keys,
):
    """Adopting a key pair: the head was published unsigned; the first signed run needs
    --force (its champion cannot be verified), then the same models are unchanged."""
    from rich.console import Console

    from hubship.publish import publish

    publish(registry, trained, console=Console(quiet=True))  # before the key pair existed
    refused = hubship_cli("publish", "--assets-dir", str(trained), env=cli_env)
    assert refused.returncode == 1
    assert "does not verify with this signing key: publishing them again" in refused.stdout
    assert "is not signed (no manifest.sig)" in refused.stderr
    done = hubship_cli("publish", "--assets-dir", str(trained), "--force", env=cli_env)
    assert done.returncode == 0 and "published v2" in done.stdout, done.stdout + done.stderr
    again = hubship_cli("publish", "--assets-dir", str(trained), env=cli_env)
    assert again.returncode == 0 and "unchanged: v2" in again.stdout, again.stdout
    assert check(registry.fetch(registry.refs().head), Trust(keys[0].public),
                 origin="v2").verified


def test_rollback_verifies_the_release_it_restores(
    attacked: Path, trained: Path, publish_signed, registry, cli_env, keys, tmp_path: Path,
):
    v3 = publish_signed(_retrained(trained, tmp_path), force=True)
    assert v3.release == 3
    refused = hubship_cli("rollback", "v2", env=cli_env)
    assert refused.returncode == 1
    assert "cannot roll back: v2" in refused.stderr
    assert "failed signature verification" in refused.stderr
    assert not attacked.exists()
    assert registry.refs().head == v3.sha

    done = hubship_cli("rollback", "v1", env=cli_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "published v4" in done.stdout and "(restores v1) (signed)" in done.stdout
    head = registry.fetch(registry.refs().head)
    checked = check(head, Trust(keys[0].public), origin="v4")
    assert checked.verified and checked.manifest.restores == "v1"
    assert Manifest.read(head).model_hashes() == Manifest.read(trained).model_hashes()


@pytest.mark.parametrize("value", ["not a key", "public", "-----BEGIN PRIVATE KEY-----\n"
                                   "bm90IGEga2V5\n-----END PRIVATE KEY-----"])
def test_a_signing_key_in_the_wrong_format_exits_2_before_training(value, keys, tmp_path):
    marker = tmp_path / "trained"
    value = keys[2].read_text() if value == "public" else value
    env = {"HUBSHIP_SIGNING_KEY": value,
           "HUBSHIP_TRAIN_COMMAND": f"python -c \"open({str(marker)!r}, 'w')\"",
           "HUBSHIP_HOME": str(tmp_path / "home"), "HUBSHIP_ASSETS_DIR": str(tmp_path / "a")}
    echoed = [line for line in value.splitlines() if "-----" not in line]
    for args in (["run"], ["check-keys"], ["publish"]):
        done = hubship_cli(*args, env=env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "HUBSHIP_SIGNING_KEY" in done.stderr
        assert not any(line in done.stdout + done.stderr for line in echoed)
    assert not marker.exists()
