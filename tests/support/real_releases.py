"""Releases as users publish them: `python models/train.py` in a copy of the project, then
`python scripts/upload_models.py`, the pipeline's own two steps (card and plots included),
against the session's local hub.

Two releases from one data push, as a user makes them: v1 is trained on the penguins of the
2007 and 2008 field seasons; then the 2009 season is added to `data/penguins.csv` (a commit in
the project copy) and v2 is trained and published. v2 passes the real gate (better on body
mass, as good on species).

A test that changes a repo (pushes a release, moves main) needs a repo of its own: `replay`
puts a published release's commit there, every file byte for byte, with its title and its tag.
Running the publisher again per test would cost seconds each and give the same files.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CI_VARIABLES = ("GITHUB_SHA", "GITHUB_REF", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL",
                "GITHUB_RUN_ID", "SOURCE_DATE_EPOCH", "GITHUB_ACTIONS", "GITHUB_OUTPUT",
                "GITHUB_STEP_SUMMARY")
GIT_USER = ["-c", "user.name=Penguin Lab", "-c", "user.email=lab@example.org"]

# Inputs of the models models/train.py makes (an Adelie and a Gentoo).
SPECIES_RECORD = {"island": "Torgersen", "sex": "male", "bill_length_mm": 39.1,
                  "bill_depth_mm": 18.7, "flipper_length_mm": 181, "body_mass_g": 3750}
BODY_MASS_RECORD = {"species": "Gentoo", "island": "Biscoe", "sex": "male",
                    "bill_length_mm": 47.5, "bill_depth_mm": 15.0, "flipper_length_mm": 217}


@dataclass(frozen=True)
class PublishedRelease:
    number: int
    sha: str  # the commit on the session repo
    title: str  # its commit title, "Release v1: <git sha> <subject>"
    files: Path  # every file of that commit (manifest, models, holdout, card, plots)
    assets: Path  # what models/train.py wrote (the form `backend/model_assets/` has)


@dataclass(frozen=True)
class RealReleases:
    repo_id: str  # on the session hub, v1 and v2 published; never changed by a test
    releases: dict[int, PublishedRelease]

    def __getitem__(self, number: int) -> PublishedRelease:
        return self.releases[number]


def make_real_releases(hub_url: str, repo_id: str, work: Path) -> RealReleases:
    """Train and publish v1 and v2 (see the module doc) into `repo_id` on `hub_url`."""
    from huggingface_hub import HfApi, snapshot_download

    api = HfApi(endpoint=hub_url, token="test-token")
    # Created public: the tests' backends read it without a token (the publisher would create
    # it private; it leaves an existing repo as it is).
    api.create_repo(repo_id, exist_ok=True)
    project = _project_copy(work / "project", seasons=("2007", "2008"),
                            message="penguins of the 2007 and 2008 seasons")
    releases = {}
    for number in (1, 2):
        if number == 2:
            shutil.copyfile(ROOT / "data" / "penguins.csv", project / "data" / "penguins.csv")
            _git(project, "commit", "-qam", "add the 2009 season")
        assets = work / f"assets-v{number}"
        _run([sys.executable, "models/train.py"], project, HUBSHIP_ASSETS_DIR=str(assets))
        outputs = work / f"github-output-v{number}"
        _run([sys.executable, str(ROOT / "scripts" / "upload_models.py")], project,
             HUBSHIP_ASSETS_DIR=str(assets), HF_ENDPOINT=hub_url, HF_TOKEN="test-token",
             HF_REPO_ID=repo_id, HUBSHIP_HOME=str(work / "publisher-home"),
             GITHUB_OUTPUT=str(outputs))
        written = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
        assert (written["tag"], written["changed"]) == (f"v{number}", "true"), written
        sha = written["sha"]
        files = Path(snapshot_download(repo_id, revision=sha, endpoint=hub_url,
                                       local_dir=work / f"commit-v{number}"))
        [commit] = [c for c in api.list_repo_commits(repo_id) if c.commit_id == sha]
        releases[number] = PublishedRelease(number, sha, commit.title, files, assets)
    return RealReleases(repo_id, releases)


def train_release(out: Path, *, cwd: Path = ROOT) -> Path:
    """`python models/train.py` run from `cwd` into `out`, as a user runs it (CI variables
    removed, so a run in CI writes what a run on a laptop does)."""
    _run([sys.executable, str(ROOT / "models" / "train.py")], cwd, HUBSHIP_ASSETS_DIR=str(out))
    return out


def replay(api: Any, repo_id: str, release: PublishedRelease) -> str:
    """`release`'s commit on `repo_id` (created public if missing): the same files, title and
    tag `v<N>`; returns the new commit's sha."""
    api.create_repo(repo_id, exist_ok=True)
    commit = api.upload_folder(folder_path=release.files, repo_id=repo_id,
                               commit_message=release.title)
    api.create_tag(repo_id, tag=f"v{release.number}", revision=commit.oid,
                   tag_message=release.title)
    return commit.oid


def _project_copy(project: Path, *, seasons: tuple[str, ...], message: str) -> Path:
    """The parts of this repository a training run reads, as a fresh git checkout whose
    data holds only the given field seasons."""
    (project / "models").mkdir(parents=True)
    (project / "data").mkdir()
    shutil.copyfile(ROOT / "models" / "train.py", project / "models" / "train.py")
    with (open(ROOT / "data" / "penguins.csv", newline="") as source,
          open(project / "data" / "penguins.csv", "w", newline="") as target):
        rows = csv.DictReader(source)
        writer = csv.DictWriter(target, fieldnames=rows.fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(row for row in rows if row["year"] in seasons)
    _git(project, "init", "-q")
    _git(project, "add", ".")
    _git(project, "commit", "-qm", message)
    return project


def _git(project: Path, *args: str) -> None:
    subprocess.run(["git", *GIT_USER, *args], cwd=project, check=True, capture_output=True)


def _run(argv: list[str], cwd: Path, **env: str) -> None:
    full_env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES} | env
    done = subprocess.run(argv, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}\n{done.stderr}"
