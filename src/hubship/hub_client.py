"""The one way hubship calls a Hub (huggingface.co, the embedded hub, the demo's) as a client.

The publisher (`registry.Registry`, a `HubClient` with the writes) and the backend (`loader`,
`/releases`) both go through a `HubClient`, built from the settings by `for_publisher` or
`for_backend`; only these differ between them:

    token     the publisher's write token / the backend's read token; a hub on this machine
              gets HF_TOKEN or none, never a token stored for huggingface.co
    cache     one folder per hub for the publisher / the backend's own cache
    hints     who fixes what (`PUBLISHER_HINTS`, `BACKEND_HINTS`)
    retries   HUBSHIP_HUB_RETRIES with backoff / none (the backend retries in the background)

What they share: a timeout on every request (`bound_hub_requests`: the client has none), one
mapping of failures to the `hubship.errors` tree (`hub_error`, messages redacted), and one retry
rule (`HubClient.call`): only a Hub that did not answer is asked again, and a write only when
its request never left (after a timeout it may have landed, and a retry would answer 409/412
for our own write). A 5xx is an answer: not retried, since a write may have landed.

Only huggingface_hub's public API is used; `httpx2` is its transport, imported here for the
exception types it raises.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self, TypeVar
from urllib.parse import urlsplit

from hubship.errors import (
    HubUnreachableError,
    PublishConflict,
    RegistryError,
    RepoNotFound,
    RevisionNotFound,
    redact,
)
from hubship.local_hub_client import LOOPBACK_HOSTS
from hubship.manifest import MANIFEST_FILE, Manifest

if TYPE_CHECKING:
    import httpx2
    from huggingface_hub import GitCommitInfo, HfApi

    from hubship.config import Settings

T = TypeVar("T")
BRANCH = "main"
TAG_PATTERN = re.compile(r"^v([1-9][0-9]*)$")
SHA_RE = re.compile(r"^[0-9a-f]{40}$")


def tag_name(release: int) -> str:
    return f"v{release}"


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


# ---- who fixes what ----------------------------------------------------------------------


@dataclass(frozen=True)
class HubHints:
    """How to fix each failure that depends on who called the Hub."""

    unreachable: str
    credentials: str
    repo: str
    revision: str


PUBLISHER_HINTS = HubHints(
    unreachable="check HF_ENDPOINT and your network; for the embedded hub run `hubship hub`",
    credentials="set HF_TOKEN to a token with write access to the repo "
                "(huggingface.co/settings/tokens)",
    repo="check HF_REPO_ID (and that HF_TOKEN can see the repo), or `hubship publish` to "
         "create it",
    revision="`hubship releases` lists the releases",
)
BACKEND_HINTS = HubHints(
    unreachable="check HF_ENDPOINT and the network; the backend retries on its own",
    credentials="set HF_TOKEN to a token with read access to the repo "
                "(huggingface.co/settings/tokens)",
    repo="check HF_REPO_ID and HF_TOKEN, or publish a first release (hubship publish)",
    revision="set MODEL_REVISION to an existing branch, tag (v<N>) or commit sha; "
             "`hubship releases` lists the releases",
)


# ---- the client ----------------------------------------------------------------------------


class HubClient:
    """One repo on one Hub, through one `HfApi`; every call goes through `call`."""

    def __init__(
        self, api: HfApi, repo_id: str, *, cache_dir: Path | None = None, retries: int = 4,
        backoff: float = 0.5, hints: HubHints = PUBLISHER_HINTS, secrets: Sequence[str] = (),
    ) -> None:
        self.api, self.repo_id, self.cache_dir = api, repo_id, cache_dir
        self.retries, self.backoff, self.hints = retries, backoff, hints
        token = getattr(api, "token", None)
        self.secrets = tuple(secrets) + ((token,) if isinstance(token, str) else ())

    @classmethod
    def for_publisher(cls, settings: Settings) -> Self:
        """The publisher's client: write token, a cache per hub, HUBSHIP_HUB_RETRIES."""
        token = settings.write_token()  # ConfigError when huggingface.co would need one
        return cls._from_settings(settings, token, retries=settings.hub_retries,
                                  hints=PUBLISHER_HINTS, cache_dir=publisher_cache_dir(settings))

    @classmethod
    def for_backend(cls, settings: Settings, *, api: HfApi | None = None) -> Self:
        """The backend's client: read token, its own cache, no retries (it retries in the
        background, `serving.reload`). `api`: a client of the caller's (tests)."""
        return cls._from_settings(settings, settings.token, retries=0, hints=BACKEND_HINTS,
                                  cache_dir=backend_cache_dir(settings), api=api)

    @classmethod
    def _from_settings(cls, settings: Settings, token: str | None, *, retries: int,
                       hints: HubHints, cache_dir: Path, api: HfApi | None = None) -> Self:
        from huggingface_hub import HfApi

        repo_id = settings.repo_id  # ConfigError when HF_REPO_ID is missing for a real hub
        bound_hub_requests(settings.hub_timeout)
        if api is None:
            # a hub on this machine (the embedded one, the demo's) gets the token configured
            # for it (HF_TOKEN: the demo's own, from demo.env) or none at all: never one the
            # client would find stored on this machine (`hf auth login` for huggingface.co)
            sent: str | bool | None = ((token or False) if is_loopback(settings.endpoint)
                                       else token)
            api = HfApi(endpoint=settings.endpoint, token=sent)
        return cls(api, repo_id, cache_dir=cache_dir, retries=retries, hints=hints,
                   secrets=settings.secrets())

    @property
    def endpoint(self) -> str:
        return str(self.api.endpoint).rstrip("/")

    def call(self, action: Callable[[], T], *, doing: str, write: bool = False) -> T:
        """Run one client call; retry while the Hub does not answer; map its failure.

        `doing` names the call for the message ("resolving revision 'v3'"). Policy: up to
        `retries` more tries, `backoff` s apart and doubling, for a Hub that did not answer
        (a `write` only when its request never left).
        """
        from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

        retrying = Retrying(
            retry=retry_if_exception(lambda exc: _no_answer(exc) and (not write
                                                                      or _never_sent(exc))),
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=self.backoff), reraise=True,
        )
        try:
            return retrying(action)
        except Exception as exc:
            error = hub_error(exc, doing=doing, endpoint=self.endpoint, repo_id=self.repo_id,
                              secrets=self.secrets, hints=self.hints)
            if error is None:
                raise
            raise error from None

    # ---- the reads the publisher and the backend share ---------------------------------------

    def refs(self) -> Refs:
        """The head of `main` (None when the repo has no commit yet) and the tags, in one call."""
        refs = self.call(lambda: self.api.list_repo_refs(self.repo_id), doing="reading the refs")
        head = next((b.target_commit for b in refs.branches if b.name == BRANCH), None)
        return Refs(head=head, tags={tag.name: tag.target_commit for tag in refs.tags})

    def resolve(self, revision: str) -> str:
        """The commit sha a branch, tag or sha names."""
        info = self.call(lambda: self.api.model_info(self.repo_id, revision=revision),
                         doing=f"resolving revision {revision!r}")
        if not info.sha or not SHA_RE.match(info.sha):
            raise RegistryError(f"the Hub gave no commit sha for revision {revision!r}",
                                hint="the Hub's model_info answer lacks a sha; check "
                                     "HF_ENDPOINT")
        return info.sha

    def head_commit(self, revision: str) -> str:
        """The commit `revision` names, from one HEAD on its manifest.json (`X-Repo-Commit`):
        the poll's cheap check (`serving.reload`). It downloads nothing, and on huggingface.co
        it is a "Resolvers" request, the highest rate limit (5,000 per 5 minutes for a free
        account, against 1,000 for the API's `model_info`, which `resolve` asks)."""
        from huggingface_hub import hf_hub_url

        url = hf_hub_url(self.repo_id, MANIFEST_FILE, revision=revision, endpoint=self.endpoint)
        metadata = self.call(lambda: self.api.get_hf_file_metadata(url=url),
                             doing=f"checking {MANIFEST_FILE} at {revision!r}")
        sha = metadata.commit_hash
        if not sha or not SHA_RE.match(sha):
            raise RegistryError(f"the Hub gave no commit sha for {MANIFEST_FILE} at {revision!r}",
                                hint="its answer lacks the X-Repo-Commit header; check "
                                     "HF_ENDPOINT")
        return sha

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

        path = self.call(download, doing=f"reading {MANIFEST_FILE} at {revision[:12]}")
        if path is None:
            return None
        return Manifest.parse(Path(path).read_bytes(),
                              origin=f"{MANIFEST_FILE} at {self.repo_id}@{revision[:12]}")

    def commits(self) -> list[GitCommitInfo]:
        """Every commit on `main`, newest first (huggingface_hub's `GitCommitInfo`)."""
        return self.call(lambda: self.api.list_repo_commits(self.repo_id),
                         doing="listing the commits")


def publisher_cache_dir(settings: Settings) -> Path:
    """One cache per hub: the client's cache layout ignores the endpoint (the same repo id on
    two hubs would share a folder)."""
    hub_slug = re.sub(r"[^A-Za-z0-9.-]+", "_", settings.endpoint.split("://", 1)[-1])
    return settings.hubship_home / "hf-cache" / hub_slug


def backend_cache_dir(settings: Settings) -> Path:
    """The backend's own Hugging Face cache (one per HUBSHIP_HOME, so hubs never collide)."""
    return settings.hubship_home / "backend-cache"


def is_loopback(endpoint: str) -> bool:
    return urlsplit(endpoint).hostname in LOOPBACK_HOSTS


# ---- a timeout on every Hub request ---------------------------------------------------------

CONNECT_TIMEOUT = 10.0
_timeout_lock = threading.Lock()
_hub_timeout: float | None = None  # None until bound_hub_requests() installs the client


def bound_hub_requests(seconds: float) -> None:
    """Give every huggingface_hub request in this process at most `seconds` (the last value
    given wins). Process-wide, as the library's shared client is.

    That client has `timeout=None`, and some calls pass `timeout=None` explicitly
    (model_info, list_repo_refs), which a client default would not override; so a request
    hook caps whatever timeout each request carries. A Hub that accepts the connection and
    never answers would otherwise hang a load, the reload lock and shutdown. The client is
    rebuilt from the library's own (its hooks: offline mode, request ids; redirects), read
    through the public `get_session`.
    """
    global _hub_timeout
    with _timeout_lock:
        installed, _hub_timeout = _hub_timeout is not None, seconds
        if installed:
            return
        from huggingface_hub import get_session, set_client_factory

        library = get_session()
        hooks = {kind: list(found) for kind, found in library.event_hooks.items()}
        follow_redirects = library.follow_redirects

        def bounded_client() -> httpx2.Client:
            import httpx2

            return httpx2.Client(
                event_hooks={**hooks, "request": [*hooks.get("request", []), _cap_timeout]},
                follow_redirects=follow_redirects, timeout=None,
            )

        set_client_factory(bounded_client)


def _cap_timeout(request: httpx2.Request) -> None:
    seconds = _hub_timeout
    if seconds is None:
        return
    given = request.extensions.get("timeout") or {}
    limits = {"connect": min(seconds, CONNECT_TIMEOUT), "read": seconds, "write": seconds,
              "pool": seconds}
    request.extensions["timeout"] = {
        key: limit if given.get(key) is None else min(given[key], limit)
        for key, limit in limits.items()
    }


# ---- failures, mapped to the hubship.errors tree ------------------------------------------


def _no_answer(exc: BaseException) -> bool:
    """The Hub did not answer: refused, timed out (httpx2's TransportError), offline mode, or a
    download that could not reach it and found nothing cached (LocalEntryNotFoundError)."""
    import httpx2
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    return isinstance(exc, (httpx2.TransportError, OfflineModeIsEnabled, LocalEntryNotFoundError))


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


def hub_error(
    exc: Exception, *, doing: str, endpoint: str, repo_id: str,
    secrets: Sequence[str | None] = (), hints: HubHints = PUBLISHER_HINTS,
) -> RegistryError | None:
    """The hubship error for a failed Hub call, or None when `exc` is not a Hub failure.

    `doing` starts the message. A Hub that did not answer, that is rate limiting (429, 408) or
    that failed (5xx) gives `HubUnreachableError`: transient, so the caller may fall back and
    retry. Messages go through `redact()`, so no token ever reaches them.
    """
    from huggingface_hub.errors import (
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    endpoint = endpoint.rstrip("/")
    where = f"{repo_id} at {endpoint}"
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    detail = redact(first_line, secrets)
    if _no_answer(exc):
        return HubUnreachableError(f"{doing}: the Hub at {endpoint} did not answer ({detail})",
                                   hint=hints.unreachable)
    if not isinstance(exc, HfHubHTTPError):
        return None
    status = exc.response.status_code if exc.response is not None else None
    if isinstance(exc, RepositoryNotFoundError):  # the Hub also says so for a hidden repo
        return RepoNotFound(f"{doing}: repo {where} not found, or not visible with this token",
                            hint=hints.repo)
    if isinstance(exc, RevisionNotFoundError):
        return RevisionNotFound(
            f"{doing}: revision not found (no branch, tag or commit by that name in {where})",
            hint=hints.revision,
        )
    if status in (401, 403):
        return RegistryError(
            f"{doing}: the Hub refused the credentials for {where} (HTTP {status})",
            hint=hints.credentials,
        )
    if status == 412:
        return PublishConflict(f"{doing}: `main` of {where} moved while publishing",
                               hint="someone else published; run again to gate against the "
                                    "new head")
    if status == 409:
        return PublishConflict(f"{doing}: it already exists in {where} ({detail})",
                               hint="nothing was overwritten; run again to publish as the next "
                                    "release")
    if status in (408, 429):
        return HubUnreachableError(
            f"{doing}: the Hub at {endpoint} is rate limiting or timing out requests "
            f"(HTTP {status})",
            hint="wait and try again; with huggingface.co, a token (HF_TOKEN) gets higher "
                 "rate limits",
        )
    if status is None or status >= 500:
        return HubUnreachableError(
            f"{doing}: the Hub at {endpoint} failed (HTTP {status or 'status unknown'})",
            hint="the Hub has a problem; try again later",
        )
    return RegistryError(f"{doing}: {where} answered HTTP {status}: {detail}",
                         hint="the Hub's answer above says what it refused")
