"""Reads: commit history, file trees, paths-info and file downloads (resolve)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from hubship.hub.deps import ReadableRepo, StoreDep, read_body
from hubship.hub.errors import BadRequest, EntryNotFound
from hubship.hub.routes_repos import REPO
from hubship.hub.serialize import commit_entry, file_entry, folder_entry, last_commit
from hubship.hub.storage import FileEntry, Repo, Store, tree_oid
from hubship.hub.validation import json_object

router = APIRouter()
COMMITS_PAGE = 50
TREE_PAGE = 1000


def _page_params(request: Request, default_limit: int) -> tuple[int, int]:
    try:
        skip = int(request.query_params.get("cursor", "0"))
        limit = int(request.query_params.get("limit", str(default_limit)))
    except ValueError:
        raise BadRequest("'cursor' and 'limit' must be integers") from None
    if skip < 0 or not 0 < limit <= default_limit:
        raise BadRequest(f"'cursor' must be >= 0 and 'limit' between 1 and {default_limit}")
    return skip, limit


def _paged(request: Request, items: list[Any], skip: int, limit: int, has_more: bool) -> Response:
    """A JSON page, with `Link: <next>; rel="next"` (absolute URL) when more remain."""
    headers = {}
    if has_more:
        next_url = request.url.include_query_params(cursor=skip + limit, limit=limit)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return JSONResponse(items, headers=headers)


@router.get(REPO + "/commits/{revision:seg}")
def list_commits(repo: ReadableRepo, store: StoreDep, revision: str,
                 request: Request) -> Response:
    """History from `revision` back to the initial commit, newest first, paged."""
    skip, limit = _page_params(request, COMMITS_PAGE)
    sha = store.resolve(repo, revision)
    commits = store.history(repo, sha, skip=skip, limit=limit + 1)
    page = [commit_entry(c) for c in commits[:limit]]
    return _paged(request, page, skip, limit, has_more=len(commits) > limit)


def _tree_entries(files: list[FileEntry], folder: str, *, recursive: bool) -> list[dict[str, Any]]:
    """Files and folders under `folder` ("" = root): direct children, or all with recursive."""
    prefix = f"{folder}/" if folder else ""
    inside = [f for f in files if f.path.startswith(prefix)]
    folders: dict[str, list[FileEntry]] = {}
    entries: list[tuple[str, dict[str, Any]]] = []
    for entry in inside:
        parts = entry.path[len(prefix):].split("/")
        for depth in range(1, len(parts) if recursive else min(2, len(parts))):
            folders.setdefault(prefix + "/".join(parts[:depth]), [])
        if recursive or len(parts) == 1:
            entries.append((entry.path, file_entry(entry)))
    for path in folders:
        contained = [f for f in inside if f.path.startswith(path + "/")]
        entries.append((path, folder_entry(path, tree_oid(contained))))
    return [item for _, item in sorted(entries, key=lambda pair: pair[0])]


def _tree(repo: Repo, store: Store, revision: str, path: str, request: Request) -> Response:
    skip, limit = _page_params(request, TREE_PAGE)
    recursive = request.query_params.get("recursive", "false").lower() in ("1", "true")
    sha = store.resolve(repo, revision)
    files = store.files(repo, sha)
    folder = path.strip("/")
    if folder and not any(f.path.startswith(folder + "/") for f in files):
        raise EntryNotFound(f"no folder {folder!r} at revision {revision!r}", commit=sha)
    entries = _tree_entries(files, folder, recursive=recursive)
    page = entries[skip:skip + limit]
    if _flag(request.query_params.get("expand", "false"), "expand"):
        _add_last_commits(store, repo, sha, page)
    return _paged(request, page, skip, limit, has_more=len(entries) > skip + limit)


def _flag(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    parsed = {"true": True, "1": True, "false": False, "0": False}.get(str(value).lower())
    if parsed is None:
        raise BadRequest(f"{name!r} must be true or false, not {value!r}")
    return parsed


def _add_last_commits(store: Store, repo: Repo, sha: str, entries: list[dict[str, Any]]
                      ) -> None:
    """`expand=True`: each entry's `lastCommit` (the newest commit that changed it)."""
    changes = store.last_changes(repo, sha, [e["path"] for e in entries])
    for entry in entries:
        if entry["path"] in changes:
            entry["lastCommit"] = last_commit(changes[entry["path"]])


@router.get(REPO + "/tree/{revision:seg}")
def list_tree(repo: ReadableRepo, store: StoreDep, revision: str, request: Request) -> Response:
    """Files (`path`, `size`, `oid`) and folders at the repo root, paged."""
    return _tree(repo, store, revision, "", request)


@router.get(REPO + "/tree/{revision:seg}/{path:rpath}")
def list_tree_under(repo: ReadableRepo, store: StoreDep, revision: str, path: str,
                    request: Request) -> Response:
    """Files and folders under a folder, paged."""
    return _tree(repo, store, revision, path, request)


async def _requested_paths(request: Request) -> tuple[list[str], bool]:
    """The `paths` of a paths-info request, sent as a form (what the client does) or as JSON
    `{"paths": [...], "expand": false}`; and whether to expand them (add `lastCommit`)."""
    raw = await read_body(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json_object(orjson.loads(raw))
        except orjson.JSONDecodeError:
            raise BadRequest('the body must be JSON {"paths": [...]}') from None
        paths, expand = body.get("paths", []), body.get("expand", False)
        if isinstance(paths, str):
            paths = [paths]
    else:
        form = parse_qs(raw.decode("utf-8", "replace"))
        paths, expand = form.get("paths", []), form.get("expand", ["false"])[-1]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise BadRequest("'paths' must be a list of path strings")
    if isinstance(expand, int) and not isinstance(expand, bool):
        raise BadRequest(f"'expand' must be true or false, not {expand!r}")
    return paths, _flag(expand, "expand")


@router.post(REPO + "/paths-info/{revision:seg}")
async def paths_info(repo: ReadableRepo, store: StoreDep, revision: str,
                     request: Request) -> list[dict[str, Any]]:
    """Info on the given paths (form or JSON `paths`); paths that do not exist are left out."""
    paths, expand = await _requested_paths(request)
    sha = store.resolve(repo, revision)
    files = store.files(repo, sha)
    by_path = {f.path: f for f in files}
    answer = []
    for path in paths:
        path = path.strip("/")
        if path in by_path:
            answer.append(file_entry(by_path[path]))
        else:
            contained = [f for f in files if f.path.startswith(path + "/")]
            if contained:
                answer.append(folder_entry(path, tree_oid(contained)))
    if expand:
        await run_in_threadpool(_add_last_commits, store, repo, sha, answer)
    return answer


@router.api_route("/{namespace:seg}/{name:seg}/resolve/{revision:seg}/{path:rpath}",
                  methods=["GET", "HEAD"])
def resolve_file(repo: ReadableRepo, store: StoreDep, revision: str, path: str) -> Response:
    """A file's bytes at a revision, with the headers the client's cache needs (quoted ETag =
    git blob oid, X-Repo-Commit, exact Content-Length) and Range support."""
    sha = store.resolve(repo, revision)
    entry = store.file(repo, sha, path)
    if entry is None:
        raise EntryNotFound(f"{path!r} does not exist at revision {revision!r}", commit=sha)
    headers = {"ETag": f'"{entry.oid}"', "X-Repo-Commit": sha, "Cache-Control": "no-cache"}
    if entry.lfs:  # what huggingface.co sends for LFS files; the client names its blob by it
        headers.update({"ETag": f'"{entry.lfs}"', "X-Linked-Etag": f'"{entry.lfs}"',
                        "X-Linked-Size": str(entry.size)})
        return FileResponse(store.lfs.path(entry.lfs), headers=headers,
                            media_type="application/octet-stream")
    return FileResponse(
        store.blobs.path(entry.oid), headers=headers, media_type="application/octet-stream"
    )
