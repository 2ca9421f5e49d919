"""Repos and refs: create, delete, info, settings, branches, tags, refs, validate-yaml."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hubship.hub.deps import JsonBody, ReadableRepo, StoreDep, readable_repo
from hubship.hub.errors import BadRequest, Conflict, Forbidden
from hubship.hub.serialize import ref_entry, repo_info
from hubship.hub.storage import DEFAULT_BRANCH, Repo, Store
from hubship.hub.validation import (
    check_namespace,
    check_ref_name,
    check_repo_name,
    json_object,
    optional_bool,
    optional_str,
)

router = APIRouter()
REPO = "/api/models/{namespace:seg}/{name:seg}"


def _check_model_type(body: dict[str, Any]) -> None:
    repo_type = optional_str(body, "type") or "model"
    if repo_type != "model":
        raise BadRequest(f"this hub stores model repos only, not {repo_type!r} repos")


def _requested_privacy(body: dict[str, Any]) -> bool | None:
    """`visibility` ("public" or "private", what current clients send) or the older `private`
    flag; None when the body asks for neither."""
    private = optional_bool(body, "private")
    visibility = optional_str(body, "visibility")
    if visibility is None:
        return private
    if visibility not in ("public", "private"):
        raise BadRequest(f"'visibility' must be 'public' or 'private', not {visibility!r}")
    return visibility == "private"


@router.get("/api/health")
def health() -> dict[str, str]:
    """Liveness: answers once the hub is ready."""
    return {"status": "ok"}


@router.post("/api/repos/create")
def create_repo(request: Request, store: StoreDep, body: JsonBody) -> dict[str, str]:
    """Create a model repo (409 if it exists)."""
    body = json_object(body)
    _check_model_type(body)
    # no organization: the token's user, as on huggingface.co (`hf upload my-model .`)
    namespace = check_namespace(optional_str(body, "organization") or request.app.state.user)
    name = check_repo_name(body.get("name"))
    private = _requested_privacy(body) or False
    url = f"{str(request.base_url).rstrip('/')}/{namespace}/{name}"
    try:
        repo = store.create_repo(namespace, name, private=private)
    except Conflict as exc:
        exc.body["url"] = url  # the client reads it when called with exist_ok=True
        raise
    return {"url": url, "name": repo.repo_id, "id": f"{repo.id:024x}"}


@router.delete("/api/repos/delete")
def delete_repo(request: Request, store: StoreDep, body: JsonBody) -> dict[str, str]:
    """Delete a model repo and its history (the blobs stay, unreferenced)."""
    body = json_object(body)
    _check_model_type(body)
    namespace = optional_str(body, "organization") or request.app.state.user
    name = optional_str(body, "name")
    repo = readable_repo(namespace, name or "", request)
    store.delete_repo(repo)
    return {}


def _info(store: Store, repo: Repo, revision: str) -> dict[str, Any]:
    sha = store.resolve(repo, revision)
    commit = store.get_commit(repo, sha)
    return repo_info(repo, sha, store.files(repo, sha), commit.created_at)


@router.get(REPO)
def model_info(repo: ReadableRepo, store: StoreDep) -> dict[str, Any]:
    """Repo info at the head of main: sha, files (siblings), privacy."""
    return _info(store, repo, DEFAULT_BRANCH)


@router.get(REPO + "/revision/{revision:seg}")
def model_info_at(repo: ReadableRepo, store: StoreDep, revision: str) -> dict[str, Any]:
    """Repo info at a branch, tag or commit sha."""
    return _info(store, repo, revision)


@router.put(REPO + "/settings")
def update_settings(repo: ReadableRepo, store: StoreDep, body: JsonBody) -> dict[str, Any]:
    """Change a repo's visibility (`private` or `visibility`)."""
    private = _requested_privacy(json_object(body))
    if private is not None:
        store.set_private(repo, private)
    return {}


@router.post("/api/validate-yaml")
def validate_yaml(body: JsonBody) -> dict[str, Any]:
    """Model-card metadata check the client runs before committing a README.md."""
    return {"errors": [], "warnings": []}


@router.get(REPO + "/refs")
def list_refs(repo: ReadableRepo, store: StoreDep) -> dict[str, Any]:
    """Branches and tags with the commit each points at."""
    refs = store.refs(repo)
    return {
        "branches": [ref_entry(r) for r in refs if r.kind == "branch"],
        "tags": [ref_entry(r) for r in refs if r.kind == "tag"],
        "converts": [],
        "pullRequests": [],
    }


@router.post(REPO + "/branch/{branch:seg}")
def create_branch(repo: ReadableRepo, store: StoreDep, branch: str,
                  body: JsonBody) -> dict[str, Any]:
    """Create a branch at `startingPoint` (default: the head of main); 409 if it exists."""
    body = json_object({} if body is None else body)
    check_ref_name(branch, "branch")
    target = store.resolve(repo, optional_str(body, "startingPoint") or DEFAULT_BRANCH)
    store.create_ref(repo, "branch", branch, target)
    return {}


@router.delete(REPO + "/branch/{branch:seg}")
def delete_branch(repo: ReadableRepo, store: StoreDep, branch: str) -> dict[str, Any]:
    """Delete a branch (not main)."""
    if branch == DEFAULT_BRANCH:
        raise Forbidden("the main branch cannot be deleted")
    store.delete_ref(repo, "branch", branch)
    return {}


@router.post(REPO + "/tag/{revision:seg}")
def create_tag(repo: ReadableRepo, store: StoreDep, revision: str,
               body: JsonBody) -> dict[str, Any]:
    """Tag the commit `revision` resolves to; 409 if the tag exists."""
    body = json_object(body)
    tag = check_ref_name(body.get("tag"), "tag")
    message = optional_str(body, "message")
    target = store.resolve(repo, revision)
    store.create_ref(repo, "tag", tag, target, message=message)
    return {}


@router.delete(REPO + "/tag/{tag:seg}")
def delete_tag(repo: ReadableRepo, store: StoreDep, tag: str) -> dict[str, Any]:
    """Delete a tag (the commit stays)."""
    store.delete_ref(repo, "tag", tag)
    return {}
