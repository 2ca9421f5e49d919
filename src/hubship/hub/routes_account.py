"""Who the caller is (`whoami-v2`) and which repos there are (`list_models`).

The hub has one user, named by `hubship hub --user` (default `local`): the owner of its token.
A repo id without a namespace (`hf upload my-model .`) means that user's repo, as on
huggingface.co, where it means the token's user.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from hubship.hub.deps import StoreDep, is_authorized
from hubship.hub.errors import BadRequest, Unauthorized
from hubship.hub.serialize import repo_summary

router = APIRouter()
LIST_PAGE = 1000


@router.get("/api/whoami-v2")
def whoami(request: Request) -> dict[str, Any]:
    """The hub's user, for its token (any caller of a hub without a token)."""
    token: str | None = request.app.state.token
    if token is not None and not request.headers.get("authorization"):
        raise Unauthorized("whoami needs the hub's token: pass token=... or set HF_TOKEN")
    user: str = request.app.state.user
    return {
        "type": "user", "id": f"{sum(user.encode()):024x}", "name": user, "fullname": user,
        "email": None, "emailVerified": False, "isPro": False, "canPay": False,
        "avatarUrl": "", "periodEnd": None, "orgs": [],
        "auth": {"type": "access_token",
                 "accessToken": {"displayName": "hubship hub token", "role": "write"}},
    }


@router.get("/api/models")
def list_models(request: Request, store: StoreDep) -> Response:
    """Repos the caller may see, by id; `author` (namespace), `search` (part of the id, any
    case) and `limit` narrow them, paged by `Link` like the Hub. Other filters are ignored."""
    query = request.query_params
    author, search = query.get("author"), (query.get("search") or "").lower()
    try:
        limit = int(query.get("limit") or LIST_PAGE)
        skip = int(query.get("cursor") or 0)
    except ValueError:
        raise BadRequest("'limit' and 'cursor' must be integers") from None
    if limit < 1 or skip < 0:
        raise BadRequest("'limit' must be at least 1 and 'cursor' at least 0")
    show_private = is_authorized(request)
    repos = [r for r in store.list_repos()
             if (show_private or not r.private) and (not author or r.namespace == author)
             and search in r.repo_id.lower()]
    page_size = min(limit, LIST_PAGE)
    page = repos[skip:skip + page_size]
    headers = {}
    if skip + page_size < len(repos) and page_size < limit:
        next_url = request.url.include_query_params(cursor=skip + page_size)
        headers["Link"] = f'<{next_url}>; rel="next"'
    items = [repo_summary(r, *store.head_info(r)) for r in page]
    return JSONResponse(items, headers=headers)
