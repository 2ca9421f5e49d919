"""Every Hub interaction, through `huggingface_hub.HfApi` only.

A release is one commit on `main` tagged `v<N>`; "latest" is the head of `main`. Client errors
become `hubship.errors` types with a hint (`hub_errors.hub_error`, shared with the backend's
loader); a Hub that does not answer is retried with backoff before `HubUnreachableError`.
A write is retried only when its request never left (a connection that could not be opened):
after a timeout it may have landed, and a retry would answer 409/412 for our own write.
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

from hubship.errors import HubUnreachableError, RegistryError
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
class Refs:
    """One read of the repo's refs: the head of `main` and every tag."""

    head: str | None
    tags: dict[str, str]

    def releases_at(self, sha: str) -> list[int]:
        """The release numbers whose `v<N>` tag names `sha`, lowest first."""
        return sorted(int(m.group(1)) for name, target in self.tags.items()
                      if target == sha and (m := TAG_PATTERN.match(name)))

    def numbered_tags(self) -> list[tuple[int, str, str]]:
        """(N, tag name, sha) for every `v<N>` tag, newest first."""
        return sorted(((int(m.group(1)), name, sha) for name, sha in self.tags.items()
                       if (m := TAG_PATTERN.match(name))), reverse=True)

    @property
    def last_release(self) -> int:
        return max((int(m.group(1)) for name in self.tags if (m := TAG_PATTERN.match(name))),
                   default=0)


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
            say(console, f"using the embedded local hub at {url}")
        if _is_loopback(settings.endpoint):
            # a hub on this machine (the embedded one, the demo's) gets the token configured
            # for it (HF_TOKEN: the demo's own, from demo.env) or none at all: never one the
            # client would find stored on this machine (`hf auth login` for huggingface.co)
            token = settings.token or False
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

    def refs(self) -> Refs:
        """The head of `main` (None when the repo has no commit yet) and the tags, in one call."""
        refs = self._call(lambda: self.api.list_repo_refs(self.repo_id), doing="reading the refs")
        head = next((b.target_commit for b in refs.branches if b.name == BRANCH), None)
        return Refs(head=head, tags={tag.name: tag.target_commit for tag in refs.tags})

    def head(self) -> Release | None:
        """The head of `main`, or None when the repo has no commit yet."""
        sha = self.refs().head
        if sha is None:
            return None
        return Release(sha=sha, manifest=self.read_manifest(sha))

    def resolve(self, revision: str) -> str:
        """The commit sha a branch, tag or sha names."""
        info = self._call(lambda: self.api.model_info(self.repo_id, revision=revision),
                          doing=f"resolving revision {revision!r}")
        if info.sha is None:  # a Hub always names the commit; say so if one does not
            raise RegistryError(f"the Hub gave no commit sha for revision {revision!r}")
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
        return self.refs().tags

    def releases(self) -> list[ReleaseInfo]:
        """Every `v<N>` tag, newest first, with its commit date and manifest."""
        numbered = self.refs().numbered_tags()
        dates: dict[str, datetime] = {}
        if numbered:
            commits = self._call(lambda: self.api.list_repo_commits(self.repo_id),
                                 doing="listing the commits")
            dates = {c.commit_id: c.created_at for c in commits}
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

        return self._call(commit, doing="committing the release", write=True)

    def tag(self, sha: str, release: int, *, message: str | None = None) -> str:
        name = tag_name(release)
        self._call(lambda: self.api.create_tag(self.repo_id, tag=name, revision=sha,
                                               tag_message=message),
                   doing=f"creating tag {name}", write=True)
        return name

    # ---- errors ----------------------------------------------------------------------------

    def _call(self, action: Callable[[], T], *, doing: str, write: bool = False) -> T:
        """Run one client call; retry while the Hub does not answer; map errors.

        A `write` is retried only when its request was never sent (see the module doc).
        """
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
                             and not isinstance(exc, HfHubHTTPError)
                             and (not write or _never_sent(exc)))
                if not retryable or attempt == self.retries:
                    raise error from None
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _token(self) -> str | None:
        token = getattr(self.api, "token", None)
        return token if isinstance(token, str) else None


def _is_loopback(endpoint: str) -> bool:
    from urllib.parse import urlsplit

    return urlsplit(endpoint).hostname in ("127.0.0.1", "localhost", "::1")


def _never_sent(exc: BaseException) -> bool:
    """True when the request could not have reached the Hub: no connection was opened."""
    import httpx2

    never_sent = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
    seen: BaseException | None = exc
    while seen is not None:  # the client may wrap the transport error
        if isinstance(seen, never_sent):
            return True
        seen = seen.__cause__
    return False


# ---- console output, shared with hubship.publish -------------------------------------------


def default_console(console: Any = None) -> Any:
    """`console`, or a new Rich console when None."""
    if console is not None:
        return console
    from rich.console import Console

    return Console()


def say(console: Any, text: str) -> None:
    """Print one plain line (no Rich markup: a sha or a path is printed as it is)."""
    default_console(console).print(text, markup=False, highlight=False)
