"""Every Hub interaction, through `huggingface_hub.HfApi` only.

A release is one commit on `main` tagged `v<N>`; "latest" is the head of `main`. Client errors
become `hubship.errors` types with a hint; an unreachable Hub is retried with backoff before
`HubUnreachableError`. Messages go through `redact()`, so the token never appears in them.
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

from hubship.errors import (
    HubUnreachableError,
    PublishConflict,
    RegistryError,
    RepoNotFound,
    RevisionNotFound,
    redact,
)
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
        retries: int = 4, backoff: float = 0.5,
    ) -> None:
        self.api, self.repo_id, self.cache_dir = api, repo_id, cache_dir
        self.retries, self.backoff = retries, backoff

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
                                                repo_type="model"), doing="create the repo")

    def head(self) -> Release | None:
        """The head of `main`, or None when the repo has no commit yet."""
        refs = self._call(lambda: self.api.list_repo_refs(self.repo_id), doing="read the refs")
        sha = next((b.target_commit for b in refs.branches if b.name == BRANCH), None)
        if sha is None:
            return None
        return Release(sha=sha, manifest=self.read_manifest(sha))

    def resolve(self, revision: str) -> str:
        """The commit sha a branch, tag or sha names."""
        info = self._call(lambda: self.api.model_info(self.repo_id, revision=revision),
                          doing=f"resolve {revision!r}")
        return info.sha

    def read_manifest(self, revision: str) -> Manifest | None:
        """The manifest at `revision`, or None when that commit holds no manifest.json."""
        from huggingface_hub.errors import EntryNotFoundError

        def download() -> str | None:
            try:
                return self.api.hf_hub_download(self.repo_id, MANIFEST_FILE, revision=revision,
                                                cache_dir=self.cache_dir)
            except EntryNotFoundError:
                return None

        path = self._call(download, doing=f"read {MANIFEST_FILE} at {revision[:12]}")
        if path is None:
            return None
        return Manifest.parse(Path(path).read_bytes(),
                              origin=f"{MANIFEST_FILE} at {self.repo_id}@{revision[:12]}")

    def files(self, revision: str) -> list[str]:
        return self._call(lambda: self.api.list_repo_files(self.repo_id, revision=revision),
                          doing=f"list the files at {revision[:12]}")

    def fetch(self, revision: str) -> Path:
        """Download a release (the client's progress bars show) and return its directory."""
        path = self._call(
            lambda: self.api.snapshot_download(self.repo_id, revision=revision,
                                               cache_dir=self.cache_dir),
            doing=f"download {revision[:12]}",
        )
        return Path(path)

    def tags(self) -> dict[str, str]:
        """Every tag name -> commit sha."""
        refs = self._call(lambda: self.api.list_repo_refs(self.repo_id), doing="read the refs")
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
                                 doing="list the commits")
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

        return self._call(commit, doing="commit the release")

    def tag(self, sha: str, release: int, *, message: str | None = None) -> str:
        name = tag_name(release)
        self._call(lambda: self.api.create_tag(self.repo_id, tag=name, revision=sha,
                                               tag_message=message), doing=f"create tag {name}")
        return name

    # ---- errors ----------------------------------------------------------------------------

    def _call(self, action: Callable[[], T], *, doing: str) -> T:
        """Run one client call; retry while the Hub is unreachable; map errors."""
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return action()
            except Exception as exc:
                error = self._translate(exc, doing=doing)
                if error is None:
                    raise
                retryable = isinstance(error, HubUnreachableError)
                if not retryable or attempt == self.retries:
                    raise error from None
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _translate(self, exc: Exception, *, doing: str) -> RegistryError | None:
        import httpx2
        from huggingface_hub.errors import (
            HfHubHTTPError,
            OfflineModeIsEnabled,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        where = f"{self.repo_id} at {self.endpoint}"
        detail = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                        [self._token()])
        if isinstance(exc, (httpx2.TransportError, OfflineModeIsEnabled)):
            return HubUnreachableError(
                f"could not {doing}: the Hub at {self.endpoint} did not answer ({detail})",
                hint="check HF_ENDPOINT and your network; for the embedded hub run `hubship hub`",
            )
        if not isinstance(exc, HfHubHTTPError):
            return None
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            return RegistryError(
                f"could not {doing}: the Hub refused the credentials for {where} "
                f"(HTTP {status})",
                hint="set HF_TOKEN to a token with write access to the repo "
                     "(huggingface.co/settings/tokens)",
            )
        if isinstance(exc, RepositoryNotFoundError):
            return RepoNotFound(
                f"could not {doing}: repo {where} not found",
                hint="check HF_REPO_ID, or `hubship publish` to create it",
            )
        if isinstance(exc, RevisionNotFoundError):
            return RevisionNotFound(
                f"could not {doing}: no branch, tag or commit by that name in {where}",
                hint="`hubship releases` lists the releases",
            )
        if status == 412:
            return PublishConflict(
                f"could not {doing}: `main` of {where} moved while publishing",
                hint="someone else published; run again to gate against the new head",
            )
        if status == 409:
            return PublishConflict(
                f"could not {doing}: it already exists in {where} ({detail})",
                hint="nothing was overwritten; run again to publish as the next release",
            )
        if status is not None and status >= 500:  # the client has already retried these
            return RegistryError(
                f"could not {doing}: the Hub at {self.endpoint} failed (HTTP {status})",
                hint="the Hub has a problem; try again later",
            )
        return RegistryError(f"could not {doing} in {where}: {detail}",
                             hint="see the Hub's message above")

    def _token(self) -> str | None:
        token = getattr(self.api, "token", None)
        return token if isinstance(token, str) else None


def _say(console: Any, text: str) -> None:
    if console is not None:
        console.print(text, highlight=False)
    else:
        print(text)
