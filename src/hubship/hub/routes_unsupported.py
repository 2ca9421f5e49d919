"""What the hub leaves out answers 501 "not supported by this hub", never "repository not
found": Xet (with how to switch it off), git over HTTP, and any other `/api/...` route
(pull requests and discussions, move_repo, super_squash_history, datasets and Spaces, ...).
Registered after every supported route, before the HTML pages."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request

from hubship.hub.errors import NotSupported
from hubship.hub.routes_repos import REPO

router = APIRouter()
log = logging.getLogger("hubship.hub")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
DOCS = "see docs/hub.md for what it supports"


@router.get(REPO + "/xet-{kind}-token/{revision:seg}", include_in_schema=False)
@router.get(REPO + "/xet-{kind}-token", include_in_schema=False)
def xet_token(kind: str) -> None:
    """hf_xet fetches this token itself and shows only the status (501) to the user, so the
    fix is logged here too, where whoever runs the hub sees it."""
    message = ("Xet is not supported by this hub (hubship): it stores large files through "
               "plain LFS. Set HF_HUB_DISABLE_XET=1 in the client's environment before Python "
               "starts (or uninstall hf_xet), and huggingface_hub uploads them through LFS")
    log.warning("a client asked for a Xet %s token. %s", kind, message)
    raise NotSupported(message)


@router.api_route("/{namespace:seg}/{name_git:seg}/info/refs", methods=ALL_METHODS,
                  include_in_schema=False)
@router.api_route("/{namespace:seg}/{name_git:seg}/git-{service}", methods=ALL_METHODS,
                  include_in_schema=False)
def git_over_http(namespace: str, name_git: str) -> None:
    raise NotSupported(f"git over HTTP is not supported by this hub (hubship); use "
                       f"huggingface_hub or the hf CLI; {DOCS}")


@router.api_route("/api/{rest:path}", methods=ALL_METHODS, include_in_schema=False)
def unknown_api(rest: str, request: Request) -> None:
    raise NotSupported(f"{request.method} /api/{rest} is not supported by this hub "
                       f"(hubship); {DOCS}")
