"""What route handlers receive: the store, the caller's rights and the repo they name."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Body, Depends, Request

import hubship.hub.rawpath  # noqa: F401  (registers the `seg` and `rpath` route convertors)
from hubship.hub.errors import RepoNotFound, Unauthorized
from hubship.hub.storage import Repo, Store


def get_store(request: Request) -> Store:
    return request.app.state.store


def is_authorized(request: Request) -> bool:
    """True when the hub is open (no token) or the request carries the hub's bearer token."""
    token: str | None = request.app.state.token
    if token is None:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def require_write(request: Request) -> None:
    if not is_authorized(request):
        raise Unauthorized(
            "this hub needs its token for writes: pass token=... to HfApi or set HF_TOKEN "
            "to the value given to `hubship hub --token`"
        )


def readable_repo(namespace: str, name: str, request: Request) -> Repo:
    """The repo named in the path; a private one is 'not found' for callers without the token."""
    repo = get_store(request).get_repo(namespace, name)
    if repo.private and not is_authorized(request):
        raise RepoNotFound(repo.repo_id)
    return repo


StoreDep = Annotated[Store, Depends(get_store)]
ReadableRepo = Annotated[Repo, Depends(readable_repo)]
WriteAccess = Depends(require_write)
JsonBody = Annotated[Any, Body()]
