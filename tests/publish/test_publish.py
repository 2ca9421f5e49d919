"""Publishing and rolling back with the real huggingface_hub client against the local hub."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from rich.console import Console

from hubship.errors import (
    GateRefused,
    HubUnreachableError,
    IncompatibleRelease,
    IntegrityError,
    ManifestError,
)
from hubship.gate import ChampionUnusable
from hubship.manifest import Manifest, sha256_file
from hubship.publish import publish, rollback
from hubship.registry import Registry


def _console() -> Console:
    return Console(record=True, width=140, force_terminal=False)


def _commits(registry) -> list:
    return registry.api.list_repo_commits(registry.repo_id)


def test_train_publish_unchanged_refuse_force_rollback(registry, trained: Path, worse: Path,
                                                       trained_once: Path) -> None:
    # train, publish: v1 with card and plots
    first = publish(registry, trained_once, console=_console())
    assert (first.changed, first.tag, first.release, first.gate) == (True, "v1", 1, None)
    files = set(registry.files(first.sha))
    assert {"manifest.json", "README.md", "models/species.joblib", "models/body_mass.joblib",
            "holdout/species.parquet", "plots/species.png", "plots/body_mass.png"} <= files
    assert registry.tags() == {"v1": first.sha}
    (commit, *_) = _commits(registry)
    source = Manifest.read(trained_once).source
    assert commit.title == f"Release v1: {source.git_commit[:7]} {source.git_subject}"
    assert "| species | f1_macro (primary) |" in commit.message
    assert registry.head().manifest.release == 1

    # publish again: unchanged, no new commit
    commits = len(_commits(registry))
    console = _console()
    again = publish(registry, trained_once, console=console)
    assert (again.changed, again.sha, again.tag) == (False, first.sha, "v1")
    assert f"unchanged: v1 ({first.sha}) is the latest release" in console.export_text()
    assert registry.head().sha == first.sha and len(_commits(registry)) == commits

    # a deliberately worse model: refused with the table, nothing published
    console = _console()
    with pytest.raises(GateRefused, match="species: f1_macro"):
        publish(registry, worse, console=console)
    table = console.export_text()
    for column in ("model", "metric", "champion", "challenger", "delta", "verdict", "worse"):
        assert column in table
    assert registry.head().sha == first.sha and set(registry.tags()) == {"v1"}

    # --force: v2, FORCED in the commit message and the card
    forced = publish(registry, worse, force=True, console=_console())
    assert (forced.changed, forced.tag, forced.forced) == (True, "v2", True)
    assert "FORCED" in _commits(registry)[0].title
    card = (registry.fetch(forced.sha) / "README.md").read_text()
    assert "**FORCED release**" in card and "| species | f1_macro |" in card
    assert Manifest.read(registry.fetch(forced.sha)).forced

    # rollback v1: v3, whose model files equal v1's
    restored = rollback(registry, "v1", console=_console())
    assert (restored.tag, restored.release, restored.restores) == ("v3", 3, "v1")
    assert "v1" in _commits(registry)[0].title
    v1, v3 = registry.fetch("v1"), registry.fetch("v3")
    for name in ("models/species.joblib", "models/body_mass.joblib"):
        assert sha256_file(v1 / name) == sha256_file(v3 / name)
    v3_manifest = Manifest.read(v3)
    assert (v3_manifest.release, v3_manifest.restores) == (3, "v1")
    assert registry.tags() == {"v1": first.sha, "v2": forced.sha, "v3": restored.sha}
    assert [r.tag for r in registry.releases()] == ["v3", "v2", "v1"]


def test_files_gone_from_the_release_are_deleted(registry, trained_once: Path, tmp_path: Path,
                                                 bundle_species) -> None:
    publish(registry, trained_once, console=_console())
    only_species = bundle_species(tmp_path / "one", inputs=["island", "bill_length_mm",
                                                            "bill_depth_mm", "flipper_length_mm"])
    result = publish(registry, only_species, force=True, console=_console())
    files = set(registry.files(result.sha))
    assert "models/species.joblib" in files
    assert not {"models/body_mass.joblib", "holdout/body_mass.parquet",
                "plots/body_mass.png"} & files
    assert {row.model: row.verdict for row in result.gate.rows}["body_mass"] == "removed"
    assert result.forced and "body_mass was removed" in result.forced_because


def test_a_renamed_model_is_refused_unless_forced(registry, tmp_path: Path,
                                                  bundle_species) -> None:
    """species -> species2: clients calling /models/species/predict would get 404."""
    from sklearn.dummy import DummyClassifier

    inputs = ["island", "bill_length_mm", "flipper_length_mm"]
    v1 = publish(registry, bundle_species(tmp_path / "old", inputs=inputs), console=_console())
    # a worse model under a new name: "new" passes on its own, the removal refuses
    renamed = bundle_species(tmp_path / "new", inputs=inputs, name="species2",
                             model=DummyClassifier(strategy="most_frequent"))
    with pytest.raises(GateRefused) as caught:
        publish(registry, renamed, console=_console())
    assert caught.value.message.startswith(f"the challenger drops models served by the "
                                           f"champion v1 ({v1.sha[:12]})")
    assert "species was removed: clients calling /models/species/predict will get 404" in \
        caught.value.message
    assert "--force" in caught.value.hint
    assert registry.tags() == {"v1": v1.sha}

    forced = publish(registry, renamed, force=True, console=_console())
    assert (forced.tag, forced.forced) == ("v2", True)
    assert forced.forced_because == ("the gate refused: species was removed: clients calling "
                                     "/models/species/predict will get 404")
    commit = _commits(registry)[0]
    assert "FORCED" in commit.title and forced.forced_because in commit.message


def test_two_publishes_from_the_same_head_make_exactly_one_release(
    registry, trained_once: Path
) -> None:
    results, errors = [], []

    def run() -> None:
        try:
            results.append(publish(registry, trained_once, console=_console()))
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(r.changed for r in results) == [False, True]
    assert set(registry.tags()) == {"v1"}
    assert len([c for c in _commits(registry) if c.title.startswith("Release")]) == 1


def test_a_stale_head_is_gated_again_after_the_race(registry, trained_once: Path,
                                                    worse: Path) -> None:
    """A publish whose parent moved re-reads the head and is gated against the new champion."""
    from hubship.registry import Registry

    registry.ensure_repo()
    stale_refs = registry.refs()  # the empty repo, before anything was published
    publish(registry, trained_once, console=_console())

    class StaleOnce(Registry):
        calls = 0

        def refs(self):
            StaleOnce.calls += 1
            return stale_refs if StaleOnce.calls == 1 else super().refs()

    racer = StaleOnce(registry.api, registry.repo_id, cache_dir=registry.cache_dir)
    console = _console()
    with pytest.raises(GateRefused):
        publish(racer, worse, console=console)
    assert "main moved while publishing" in console.export_text()
    assert set(registry.tags()) == {"v1"}


def test_a_tampered_model_file_is_refused_and_nothing_published(registry, trained: Path) -> None:
    model = trained / "models" / "species.joblib"
    model.write_bytes(model.read_bytes().replace(b"sklearn", b"sklearX", 1))
    with pytest.raises(IntegrityError, match="models/species.joblib"):
        publish(registry, trained, console=_console())
    assert registry.api.repo_exists(registry.repo_id) is False


@pytest.mark.parametrize("content", ["{not json", json.dumps({"format": "hubship/1"})])
def test_a_malformed_manifest_is_refused(registry, trained: Path, content: str) -> None:
    (trained / "manifest.json").write_text(content)
    with pytest.raises(ManifestError, match="manifest.json"):
        publish(registry, trained, console=_console())
    assert registry.api.repo_exists(registry.repo_id) is False


def test_dry_run_commits_nothing(registry, trained_once: Path) -> None:
    console = _console()
    result = publish(registry, trained_once, dry_run=True, console=console)
    assert (result.changed, result.release, result.tag) == (True, 1, None)
    assert "dry run: would publish v1" in console.export_text()
    assert registry.api.repo_exists(registry.repo_id) is False


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "real"])
def test_a_first_release_from_another_scikit_learn_is_refused_dry_run_or_not(
    registry, trained: Path, pickled_with, dry_run: bool
) -> None:
    pickled_with(trained, "0.24.2")
    with pytest.raises(IncompatibleRelease) as caught:
        publish(registry, trained, dry_run=dry_run, console=_console())
    assert caught.value.message.startswith(
        f"the release in {trained} was pickled with scikit-learn 0.24.2, installed ")
    assert "hubship-staged" not in caught.value.message
    assert registry.api.repo_exists(registry.repo_id) is False


def test_a_forced_dry_run_past_an_unusable_champion_checks_scikit_learn(
    registry, trained_once: Path, worse: Path, pickled_with
) -> None:
    publish(registry, trained_once, console=_console())
    registry.api.upload_file(path_or_fileobj=b"{not json", path_in_repo="manifest.json",
                             repo_id=registry.repo_id, commit_message="break main")
    pickled_with(worse, "0.24.2")
    for dry_run in (True, False):
        with pytest.raises(IncompatibleRelease, match=f"the release in {worse} was pickled"):
            publish(registry, worse, force=True, dry_run=dry_run, console=_console())
    assert set(registry.tags()) == {"v1"}


def test_rollback_by_sha_names_the_tag_and_unknown_targets_are_clear(
    registry, trained_once: Path, worse: Path
) -> None:
    from hubship.errors import RevisionNotFound

    v1 = publish(registry, trained_once, console=_console())
    publish(registry, worse, force=True, console=_console())
    restored = rollback(registry, v1.sha, console=_console())
    assert (restored.tag, restored.restores) == ("v3", "v1")
    assert Manifest.read(registry.fetch("v3")).model_hashes() == \
        Manifest.read(trained_once).model_hashes()
    with pytest.raises(RevisionNotFound, match="no branch, tag or commit"):
        rollback(registry, "v9", console=_console())


@pytest.mark.parametrize("broken", ["models/species.joblib", "manifest.json"])
def test_force_publishes_past_an_unusable_champion_and_says_why(
    registry, trained_once: Path, worse: Path, broken: str
) -> None:
    publish(registry, trained_once, console=_console())
    registry.api.upload_file(path_or_fileobj=b"{not what was published", path_in_repo=broken,
                             repo_id=registry.repo_id, commit_message="break main")
    with pytest.raises(ChampionUnusable, match=f"champion release is unusable: {broken}"):
        publish(registry, worse, console=_console())
    assert set(registry.tags()) == {"v1"}

    console = _console()
    forced = publish(registry, worse, force=True, console=console)
    assert (forced.changed, forced.tag, forced.forced, forced.gate) == (True, "v2", True, None)
    assert broken in forced.forced_because
    assert f"published v2: {forced.sha} (FORCED: the champion release is unusable: {broken}" \
        in console.export_text()
    commit = _commits(registry)[0]
    assert "FORCED" in commit.title and broken in commit.message
    published = registry.fetch(forced.sha)
    assert Manifest.read(published).forced
    assert f"Not gated: the champion release is unusable: {broken}" in \
        (published / "README.md").read_text()


def test_an_untagged_head_is_tagged_before_anything_else(
    registry, trained_once: Path, worse: Path
) -> None:
    first = publish(registry, trained_once, console=_console())
    registry.api.delete_tag(registry.repo_id, tag="v1")  # a run stopped between commit and tag

    console = _console()
    again = publish(registry, trained_once, console=console)
    # never tagged means never deployed: the run reports a change so production moves to it
    assert (again.changed, again.sha, again.tag) == (True, first.sha, "v1")
    assert f"tagged main ({first.sha}) v1" in console.export_text()
    assert registry.tags() == {"v1": first.sha}

    registry.api.delete_tag(registry.repo_id, tag="v1")
    forced = publish(registry, worse, force=True, console=_console())
    assert forced.tag == "v2"
    assert registry.tags() == {"v1": first.sha, "v2": forced.sha}


def test_a_refusal_names_an_untagged_champion_by_its_sha(
    registry, trained_once: Path, worse: Path
) -> None:
    registry.ensure_repo()
    raw = registry.api.upload_folder(folder_path=trained_once, repo_id=registry.repo_id,
                                     commit_message="a release uploaded by hand, no number")
    with pytest.raises(GateRefused) as caught:
        publish(registry, worse, console=_console())
    assert f"the champion {raw.oid[:12]} (untagged)" in caught.value.message
    assert "None" not in caught.value.message


def test_rollback_to_another_scikit_learn_is_refused(
    registry, trained: Path, pickled_with
) -> None:
    registry.ensure_repo()
    old = Manifest.read(pickled_with(trained, "0.24.2")).model_copy(update={"release": 1})
    old.write(trained)
    raw = registry.api.upload_folder(folder_path=trained, repo_id=registry.repo_id,
                                     commit_message="release v1")
    registry.api.create_tag(registry.repo_id, tag="v1", revision=raw.oid)
    commits = len(_commits(registry))
    with pytest.raises(IncompatibleRelease, match="cannot roll back to v1") as caught:
        rollback(registry, "v1", console=_console())
    assert "scikit-learn 0.24.2" in caught.value.message
    assert f"retrain from that release's source commit {old.source.git_commit}" in \
        caught.value.hint
    assert len(_commits(registry)) == commits and set(registry.tags()) == {"v1"}


class _FlakyApi:
    """A client whose first create_tag fails with `error` (the local hub cannot time out)."""

    endpoint, token = "http://hub.invalid", None

    def __init__(self, error: Exception) -> None:
        self.error, self.calls = error, 0

    def create_tag(self, *args, **kwargs) -> None:
        self.calls += 1
        if self.calls == 1:
            raise self.error


def test_a_write_is_retried_only_when_its_request_never_left() -> None:
    import httpx2

    timed_out = _FlakyApi(httpx2.ReadTimeout("timed out"))  # it may have landed
    with pytest.raises(HubUnreachableError, match="creating tag v1"):
        Registry(timed_out, "team/penguins", retries=3, backoff=0).tag("a" * 40, 1)
    assert timed_out.calls == 1
    refused = _FlakyApi(httpx2.ConnectError("connection refused"))  # it never left
    assert Registry(refused, "team/penguins", retries=3, backoff=0).tag("a" * 40, 1) == "v1"
    assert refused.calls == 2
