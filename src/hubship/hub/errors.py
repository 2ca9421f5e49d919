"""HTTP errors the hub answers, shaped the way `huggingface_hub` classifies them.

The client reads `X-Error-Code` to raise its typed errors (`RepositoryNotFoundError`,
`RevisionNotFoundError`, `RemoteEntryNotFoundError`) and shows `X-Error-Message` and the
JSON body's `error` to the user, so every error carries a message saying what to fix.

    HubHTTPError              any error answered on purpose (status + message)
    ├── BadRequest            400: malformed body, bad path or name, oversized body
    ├── Unauthorized          401: a write (or a private read) without the hub's token
    ├── Forbidden             403: an operation the hub refuses (deleting `main`)
    ├── RepoNotFound          404 + X-Error-Code: RepoNotFound
    ├── RevisionNotFound      404 + X-Error-Code: RevisionNotFound
    ├── EntryNotFound         404 + X-Error-Code: EntryNotFound (+ X-Repo-Commit when known)
    ├── Conflict              409: the repo, branch or tag exists already
    ├── PreconditionFailed    412: `parentCommit` is not the head of the branch any more
    └── NotSupported          501: a Hub feature this hub leaves out (Xet, pull requests...)
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

# The client only treats a 401 as "bad token" (not "repo not found") with this exact text.
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


class HubHTTPError(Exception):
    status = 500
    code: str | None = None

    def __init__(self, message: str, *, headers: dict[str, str] | None = None,
                 body: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.body = body or {}  # extra JSON fields next to "error"


class BadRequest(HubHTTPError):
    status = 400
    code = "BadRequest"


class Unauthorized(HubHTTPError):
    status = 401


class Forbidden(HubHTTPError):
    status = 403


class RepoNotFound(HubHTTPError):
    status = 404
    code = "RepoNotFound"

    def __init__(self, repo_id: str) -> None:
        super().__init__(
            f"Repository {repo_id!r} not found (or private and your token cannot read it). "
            "Create it with HfApi.create_repo or check the repo id."
        )


class RevisionNotFound(HubHTTPError):
    status = 404
    code = "RevisionNotFound"

    def __init__(self, repo_id: str, revision: str) -> None:
        super().__init__(
            f"Revision {revision!r} not found in {repo_id}: it is not a branch, a tag or a "
            "full commit sha of this repo. list_repo_refs shows the branches and tags."
        )


class EntryNotFound(HubHTTPError):
    status = 404
    code = "EntryNotFound"

    def __init__(self, message: str, *, commit: str | None = None) -> None:
        super().__init__(message, headers={"X-Repo-Commit": commit} if commit else None)


class Conflict(HubHTTPError):
    status = 409


class PreconditionFailed(HubHTTPError):
    status = 412


class NotSupported(HubHTTPError):
    status = 501
    code = "NotSupported"


async def handle_hub_error(request: Request, exc: Exception) -> JSONResponse:
    """Render a HubHTTPError as the Hub does: JSON `{"error": ...}` plus X-Error-* headers."""
    assert isinstance(exc, HubHTTPError)
    headers = dict(exc.headers)
    # Header values must be latin-1; the JSON body keeps the full text.
    headers["X-Error-Message"] = exc.message.encode("latin-1", "replace").decode("latin-1")
    if exc.code:
        headers["X-Error-Code"] = exc.code
    if isinstance(exc, Unauthorized):
        headers["X-Error-Message"] = INVALID_CREDENTIALS
        headers["WWW-Authenticate"] = 'Bearer realm="hubship hub"'
    if request.method == "HEAD":
        return JSONResponse(None, status_code=exc.status, headers=headers)
    return JSONResponse({**exc.body, "error": exc.message}, status_code=exc.status, headers=headers)
