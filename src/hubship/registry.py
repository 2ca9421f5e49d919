"""Every Hub interaction, through `huggingface_hub.HfApi` only.

A release is one commit on `main` tagged `v<N>`; "latest" is the head of `main`. Client errors
become `hubship.errors` types with a hint (`hub_errors.hub_error`, shared with the backend's
loader); a Hub that does not answer is retried with backoff before `HubUnreachableError`.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hubship.errors import HubUnreachableError
from hubship.hub_errors import PUBLISHER_HINTS, HubHints, hub_error
from hubship.manifest import MANIFEST_FILE, Manifest

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from hubship.config import Settings

T = TypeVar("T")
TAG_PATTERN = re.compile(r"^v([1-9][0-9]*)$")
BRANCH = "main"


def tag_name(release: int) -> str:
    return f"v{release}"


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


class Registry:
    def __init__(
        self, api: HfApi, repo_id: str, *, cache_dir: Path | None = None,
        retries: int = 4, backoff: float = 0.5, hints: HubHints = PUBLISHER_HINTS,
    ) -> None:
        self.api, self.repo_id, self.cache_dir = api, repo_id, cache_dir
        self.retries, self.backoff, self.hints = retries, backoff, hints

    @classmethod
    def from_settings(cls, settings: Settings, *, console: Any = None) -> Registry:
        """The registry the settings name; starts the embedded local hub when it is the one."""
        from huggingface_hub import HfApi

        from hubship.config import LOCAL_HUB_PORT

        repo_id = settings.repo_id  # ConfigError when HF_REPO_ID is missing for a real hub
        token: str | bool | None = settings.write_token()
        if settings.uses_local_hub:
            from hubship.services import ensure_local_hub

            url = ensure_local_hub(settings.local_hub_dir, port=LOCAL_HUB_PORT)
            _say(console, f"using the embedded local hub at {url}")
            token = False  # never send a token stored on this machine to the local hub
        api = HfApi(endpoint=settings.endpoint, token=token)
        # one cache per hub: the client's cache layout ignores the endpoint (same repo id on two
        # hubs would share a folder)
        hub_slug = re.sub(r"[^A-Za-z0-9.-]+", "_", settings.endpoint.split("://", 1)[-1])
        return cls(api, repo_id, cache_dir=settings.hubship_home / "hf-cache" / hub_slug,
                   retries=settings.hub_retries)

    @property
    def endpoint(self) -> str:
        return str(self.api.endpoint).rstrip("/")

    # ---- reading ---------------------------------------------------------------------------

    def ensure_repo(self, *, private: bool = True) -> None:
        self._call(lambda: self.api.create_repo(self.repo_id, private=private, exist_ok=True,
                                                repo_type="model"), doing="creating the repo")

    def head(self) -> Release | None:
        """The head of `main`, or None when the repo has no commit yet."""
        refs = self._call(lambda: self.api.list_repo_refs(self.repo_id), doing="reading the refs")
        sha = next((b.target_commit for b in refs.branches if b.name == BRANCH), None)
        if sha is None:
            return None
        return Release(sha=sha, manifest=self.read_manifest(sha))

    def resolve(self, revision: str) -> str:
        """The commit sha a branch, tag or sha names."""
        info = self._call(lambda: self.api.model_info(self.repo_id, revision=revision),
                          doing=f"resolving revision {revision!r}")
        return info.sha

    def read_manifest(self, revision: str) -> Manifest | None:
        """The manifest at `revision`, or None when that commit holds no manifest.json."""
        # not EntryNotFoundError: its LocalEntryNotFoundError subclass means the Hub did not answer
        from huggingface_hub.errors import RemoteEntryNotFoundError

        def download() -> str | None:
            try:
                return self.api.hf_hub_download(self.repo_id, MANIFEST_FILE, revision=revision,
                                                cache_dir=self.cache_dir)
            except RemoteEntryNotFoundError:
                return None

        path = self._call(download, doing=f"reading {MANIFEST_FILE} at {revision[:12]}")
        if path is None:
            return None
        return Manifest.parse(Path(path).read_bytes(),
                              origin=f"{MANIFEST_FILE} at {self.repo_id}@{revision[:12]}")

    def files(self, revision: str) -> list[str]:
        return self._call(lambda: self.api.list_repo_files(self.repo_id, revision=revision),
                          doing=f"listing the files at {revision[:12]}")

    def fetch(self, revision: str) -> Path:
        """Download a release (the client's progress bars show) and return its directory."""
        path = self._call(
            lambda: self.api.snapshot_download(self.repo_id, revision=revision,
                                               cache_dir=self.cache_dir),
            doing=f"downloading {revision[:12]}",
        )
        return Path(path)

    def tags(self) -> dict[str, str]:
        """Every tag name -> commit sha."""
        refs = self._call(lambda: self.api.list_repo_refs(self.repo_id), doing="reading the refs")
        return {tag.name: tag.target_commit for tag in refs.tags}

    def releases(self) -> list[ReleaseInfo]:
        """Every `v<N>` tag, newest first, with its commit date and manifest."""
        numbered = sorted(
            ((int(m.group(1)), name, sha) for name, sha in self.tags().items()
             if (m := TAG_PATTERN.match(name))),
            reverse=True,
        )
        dates: dict[str, datetime] = {}
        if numbered:
            commits = self._call(lambda: self.api.list_repo_commits(self.repo_id),
                                 doing="listing the commits")
            dates = {c.commit_id: c.created_at for c in commits}
        return [ReleaseInfo(name, number, sha, dates.get(sha), self.read_manifest(sha))
                for number, name, sha in numbered]

    def last_release_number(self) -> int:
        numbers = [int(m.group(1)) for name in self.tags() if (m := TAG_PATTERN.match(name))]
        return max(numbers, default=0)

    # ---- writing ---------------------------------------------------------------------------

    def commit_release(
        self, files: Mapping[str, Path], deletions: Sequence[str], *, parent: str | None,
        title: str, description: str,
    ) -> str:
        """One commit on `main` adding `files` (path in repo -> local file) and deleting
        `deletions`; refused with PublishConflict when `main` is no longer `parent`."""
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete

        def commit() -> str:
            operations = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(local))
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

        return self._call(commit, doing="committing the release")

    def tag(self, sha: str, release: int, *, message: str | None = None) -> str:
        name = tag_name(release)
        self._call(lambda: self.api.create_tag(self.repo_id, tag=name, revision=sha,
                                               tag_message=message), doing=f"creating tag {name}")
        return name

    # ---- errors ----------------------------------------------------------------------------

    def _call(self, action: Callable[[], T], *, doing: str) -> T:
        """Run one client call; retry while the Hub does not answer; map errors."""
        from huggingface_hub.errors import HfHubHTTPError

        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return action()
            except Exception as exc:
                error = hub_error(exc, doing=doing, endpoint=self.endpoint,
                                  repo_id=self.repo_id, secrets=[self._token()],
                                  hints=self.hints)
                if error is None:
                    raise
                # a 5xx is an answer: not retried here, since a write may have landed
                retryable = (isinstance(error, HubUnreachableError)
                             and not isinstance(exc, HfHubHTTPError))
                if not retryable or attempt == self.retries:
                    raise error from None
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _token(self) -> str | None:
        token = getattr(self.api, "token", None)
        return token if isinstance(token, str) else None


def _say(console: Any, text: str) -> None:
    if console is not None:
        console.print(text, highlight=False)
    else:
        print(text)
