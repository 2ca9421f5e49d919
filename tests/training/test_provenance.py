"""Where a release came from: git, GitHub Actions variables, data hashes, versions, time."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubship.bundle import Bundle
from hubship.errors import BundleError
from hubship.manifest import sha256_file
from hubship.provenance import (
    created_at,
    data_hashes,
    environment,
    git_source,
    require_committed,
)


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          cwd=folder, check=True, capture_output=True, text=True).stdout.strip()


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "data").mkdir()
    (repo / "data" / "rows.csv").write_text("a,b\n1,2\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "add rows")
    return repo


def test_git_commit_ref_subject_and_dirty_flag(tmp_path):
    repo = _repo(tmp_path)
    source = git_source(repo, env={})
    assert source.git_commit == _git(repo, "rev-parse", "HEAD")
    assert (source.git_ref, source.git_subject, source.git_dirty) == \
        ("refs/heads/main", "add rows", False)
    (repo / "data" / "rows.csv").write_text("a,b\n1,3\n")
    assert git_source(repo, env={}).git_dirty is True


def test_a_dirty_release_is_labelled_and_refused_in_ci_only(tmp_path):
    repo = _repo(tmp_path)
    commit = _git(repo, "rev-parse", "HEAD")
    require_committed(git_source(repo, env={}), repo, env={"GITHUB_ACTIONS": "true"})  # clean
    (repo / "data" / "rows.csv").write_text("a,b\n1,3\n")
    dirty = git_source(repo, env={})
    assert dirty.commit_label() == f"{commit[:7]}+dirty"
    assert dirty.commit_label(None) == f"{commit}+dirty"
    require_committed(dirty, repo, env={})  # on a laptop: allowed, and marked
    with pytest.raises(BundleError) as refused:
        require_committed(dirty, repo, env={"GITHUB_ACTIONS": "true"})
    assert "uncommitted changes" in refused.value.message
    assert "data/rows.csv" in refused.value.message and "commit" in refused.value.hint


def test_github_actions_variables_win(tmp_path):
    repo = _repo(tmp_path)
    env = {"GITHUB_SHA": "f" * 40, "GITHUB_REF": "refs/heads/release",
           "GITHUB_REPOSITORY": "team/penguins", "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_RUN_ID": "123"}
    source = git_source(repo, env=env)
    assert source.git_commit == "f" * 40
    assert source.git_ref == "refs/heads/release"
    assert source.repository == "team/penguins"
    assert source.run_url == "https://github.com/team/penguins/actions/runs/123"
    assert source.git_subject is None  # local git described a different commit


def test_outside_git_everything_is_none(tmp_path):
    source = git_source(None, env={})
    assert source.git_commit is None and source.git_dirty is None


def test_data_hashes_are_relative_to_the_repo(tmp_path):
    repo = _repo(tmp_path)
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("x\n")
    assert data_hashes([repo / "data" / "rows.csv", outside], repo) == {
        "data/rows.csv": sha256_file(repo / "data" / "rows.csv"),
        "elsewhere.csv": sha256_file(outside),
    }


def test_environment_and_time():
    env = environment()
    assert env.packages["scikit-learn"] and env.packages["hubship"] and env.python.count(".") == 2
    assert created_at({"SOURCE_DATE_EPOCH": "1700000000"}) == \
        datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert created_at({}).tzinfo is not None


def test_bundle_records_provenance_of_its_repo(tmp_path, toy_data, classifier, monkeypatch):
    repo = _repo(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    bundle = Bundle(repo / "out", data_files=[repo / "data" / "rows.csv"])
    bundle.add("m", classifier, X_train=toy_data["X_train"], X_holdout=toy_data["X_holdout"],
               y_holdout=toy_data["label_holdout"], task="classification",
               primary_metric="accuracy")
    manifest = bundle.save()
    assert manifest.source.git_commit == _git(repo, "rev-parse", "HEAD")
    assert manifest.data == {"data/rows.csv": sha256_file(repo / "data" / "rows.csv")}
    assert manifest.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert manifest.release is None
