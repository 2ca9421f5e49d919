"""What route handlers receive: the store, the caller's rights, the repo they name and the
JSON body (read only after the write guard has checked the token, and bounded)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request

import hubship.hub.rawpath  # noqa: F401  (registers the `seg` and `rpath` route convertors)
from hubship.hub.errors import BadRequest, RepoNotFound
from hubship.hub.guard import bearer_matches
from hubship.hub.storage import Repo, Store

# JSON bodies are small (a preupload of 256 files is about 0.5 MB); file contents travel in
# commits and LFS uploads, which have limits of their own.
MAX_JSON_BODY_BYTES = 4 * 1024 * 1024


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store  # set by create_app
    return store


def is_authorized(request: Request) -> bool:
    """True when the hub is open (no token) or the request carries the hub's bearer token."""
    token: str | None = request.app.state.token
    if token is None:
        return True
    return bearer_matches(request.headers.get("authorization", "").encode("latin-1"), token)


def readable_repo(namespace: str, name: str, request: Request) -> Repo:
    """The repo named in the path; a private one is 'not found' for callers without the token."""
    repo = get_store(request).get_repo(namespace, name)
    if repo.private and not is_authorized(request):
        raise RepoNotFound(repo.repo_id)
    return repo


async def read_body(request: Request, limit: int = MAX_JSON_BODY_BYTES) -> bytes:
    """The whole body, refused (400) as soon as it passes `limit` bytes, chunked or not."""
    chunks, received = [], 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BadRequest(f"the request body is over {limit} bytes, the largest this route "
                             "accepts")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request) -> Any:
    """The JSON body (None when empty), at most MAX_JSON_BODY_BYTES."""
    raw = await read_body(request)
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed request: the body is not valid JSON ({exc})") from None


StoreDep = Annotated[Store, Depends(get_store)]
ReadableRepo = Annotated[Repo, Depends(readable_repo)]
JsonBody = Annotated[Any, Depends(json_body)]
