"""The publisher's Hub: releases read and written through `huggingface_hub.HfApi` only.

A release is one commit on `main` tagged `v<N>`; "latest" is the head of `main`. `Registry` is
the `hub_client.HubClient` (timeouts, error mapping with the publisher's hints, retries) plus
the publisher's calls: create the repo, head, fetch, list releases, one atomic commit, tag.
It never starts a hub: the commands that publish start the embedded one when the settings
name it (`services.start_local_hub_if_used`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hubship.hub_client import BRANCH, HubClient, tag_name
from hubship.manifest import Manifest

if TYPE_CHECKING:
    from hubship.config import Settings


@dataclass(frozen=True)
class Release:
    """The head of `main`: its commit and, if it is a hubship release, its manifest."""

    sha: str
    manifest: Manifest | None

    @property
    def tag(self) -> str | None:
        release = self.manifest.release if self.manifest else None
        return tag_name(release) if release else None


@dataclass(frozen=True)
class ReleaseInfo:
    tag: str
    release: int
    sha: str
    date: datetime | None
    manifest: Manifest | None


class Registry(HubClient):
    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        """The publisher's registry (`HubClient.for_publisher`); starts no hub."""
        return cls.for_publisher(settings)

    # ---- reading (refs, resolve and read_manifest: `HubClient`) ------------------------------

    def ensure_repo(self, *, private: bool = True) -> None:
        self.call(lambda: self.api.create_repo(self.repo_id, private=private, exist_ok=True,
                                               repo_type="model"), doing="creating the repo")

    def head(self) -> Release | None:
        """The head of `main`, or None when the repo has no commit yet."""
        sha = self.refs().head
        if sha is None:
            return None
        return Release(sha=sha, manifest=self.read_manifest(sha))

    def files(self, revision: str) -> list[str]:
        return self.call(lambda: self.api.list_repo_files(self.repo_id, revision=revision),
                         doing=f"listing the files at {revision[:12]}")

    def fetch(self, revision: str) -> Path:
        """Download a release (the client's progress bars show) and return its directory."""
        path = self.call(
            lambda: self.api.snapshot_download(self.repo_id, revision=revision,
                                               cache_dir=self.cache_dir),
            doing=f"downloading {revision[:12]}",
        )
        return Path(path)

    def tags(self) -> dict[str, str]:
        """Every tag name -> commit sha."""
        return self.refs().tags

    def releases(self) -> list[ReleaseInfo]:
        """Every `v<N>` tag, newest first, with its commit date and manifest."""
        numbered = self.refs().numbered_tags()
        dates: dict[str, datetime] = {}
        if numbered:
            dates = {c.commit_id: c.created_at for c in self.commits()}
        return [ReleaseInfo(name, number, sha, dates.get(sha), self.read_manifest(sha))
                for number, name, sha in numbered]

    # ---- writing ---------------------------------------------------------------------------

    def commit_release(
        self, files: Mapping[str, Path], deletions: Sequence[str], *, parent: str | None,
        title: str, description: str,
    ) -> str:
        """One commit on `main` adding `files` (path in repo -> local file) and deleting
        `deletions`; refused with PublishConflict when `main` is no longer `parent`."""
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete

        def commit() -> str:
            operations: list[CommitOperationAdd | CommitOperationDelete] = [
                CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(local))
                for p, local in sorted(files.items())]
            operations += [CommitOperationDelete(path_in_repo=p) for p in sorted(deletions)]
            with warnings.catch_warnings():
                # holdout/*.parquet belong in the release: silence "a data file in a model repo"
                warnings.filterwarnings("ignore", message=".*data file.*", category=UserWarning)
                info = self.api.create_commit(
                    self.repo_id, operations, commit_message=title,
                    commit_description=description, revision=BRANCH, parent_commit=parent,
                    repo_type="model",
                )
            return info.oid

        return self.call(commit, doing="committing the release", write=True)

    def tag(self, sha: str, release: int, *, message: str | None = None) -> str:
        name = tag_name(release)
        self.call(lambda: self.api.create_tag(self.repo_id, tag=name, revision=sha,
                                              tag_message=message),
                  doing=f"creating tag {name}", write=True)
        return name
