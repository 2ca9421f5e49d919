"""One translation of huggingface_hub failures into the `hubship.errors` tree.

The publisher (`Registry`, write token) and the backend (`loader`, read token) call the Hub
through the same client, so they share this mapping; only the hints differ, because a different
person fixes a different setting (`PUBLISHER_HINTS`, `BACKEND_HINTS`). Retrying is the caller's
business. Messages go through `redact()`, so no token ever reaches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hubship.errors import (
    HubUnreachableError,
    PublishConflict,
    RegistryError,
    RepoNotFound,
    RevisionNotFound,
    redact,
)


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


def hub_error(
    exc: Exception, *, doing: str, endpoint: str, repo_id: str,
    secrets: Sequence[str | None] = (), hints: HubHints = PUBLISHER_HINTS,
) -> RegistryError | None:
    """The hubship error for a failed Hub call, or None when `exc` is not a Hub failure.

    `doing` names the call ("resolving revision 'v3'") and starts the message. A Hub that did
    not answer (refused, or timed out), that is rate limiting (429, 408) or that failed (5xx)
    gives `HubUnreachableError`: transient, so the caller may fall back and retry.
    """
    import httpx2
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    endpoint = endpoint.rstrip("/")
    where = f"{repo_id} at {endpoint}"
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    detail = redact(first_line, secrets)
    # TransportError includes timeouts; LocalEntryNotFoundError: a download could not reach
    # the Hub and found nothing cached
    if isinstance(exc, (httpx2.TransportError, OfflineModeIsEnabled, LocalEntryNotFoundError)):
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
