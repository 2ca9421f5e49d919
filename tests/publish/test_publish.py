"""Publishing and rolling back with the real huggingface_hub client against the local hub."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from rich.console import Console

from hubship.errors import GateRefused, IntegrityError, ManifestError
from hubship.manifest import Manifest, sha256_file
from hubship.publish import publish, rollback


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
    assert f"unchanged: production stays at v1 ({first.sha})" in console.export_text()
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
