"""Writes: preupload (which files to send, and how) and the NDJSON commit."""

from __future__ import annotations

import tempfile
from typing import IO, Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from hubship.hub.commit_body import parse_commit
from hubship.hub.deps import JsonBody, ReadableRepo, StoreDep
from hubship.hub.errors import BadRequest
from hubship.hub.routes_repos import REPO
from hubship.hub.storage import Commit, Repo, Store
from hubship.hub.validation import check_repo_path

router = APIRouter()
SPOOL_IN_MEMORY = 1024 * 1024  # a bigger body waits on disk until it is parsed


@router.post(REPO + "/preupload/{revision:seg}")
def preupload(repo: ReadableRepo, store: StoreDep, revision: str, request: Request,
              body: JsonBody) -> dict[str, Any]:
    """Upload mode per file, as huggingface.co decides it: "lfs" over the LFS threshold,
    "regular" (inline in the commit) below; with the remote file's id (sha256 for LFS, git
    oid otherwise) so the client leaves out unchanged files."""
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise BadRequest('the body must be {"files": [{"path", "sample", "size"}, ...]}')
    threshold: int = request.app.state.lfs_threshold_bytes
    sha = store.resolve(repo, revision)
    answer = []
    for item in files:
        path = check_repo_path(item.get("path"))
        size = item.get("size")
        lfs = isinstance(size, int) and size > threshold
        remote = store.file(repo, sha, path)
        answer.append({
            "path": path,
            "uploadMode": "lfs" if lfs else "regular",
            "shouldIgnore": False,
            "oid": (remote.lfs if lfs else remote.oid) if remote else None,
        })
    return {"files": answer, "commitOid": sha}


@router.post(REPO + "/commit/{revision:seg}")
async def commit(repo: ReadableRepo, store: StoreDep, revision: str,
                 request: Request) -> dict[str, Any]:
    """Create one commit from an NDJSON body: a header line, then one line per operation
    (`file`, `deletedFile`, `deletedFolder`). All or nothing; 412 on a stale `parentCommit`."""
    if request.query_params.get("create_pr") in ("1", "true", "True"):
        raise BadRequest("this hub has no pull requests: commit to a branch instead")
    # the body limit (--max-body-bytes) is enforced as the chunks arrive (BodyLimitMiddleware)
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        async for chunk in request.stream():
            body.write(chunk)
        body.seek(0)
        new_commit = await run_in_threadpool(_commit_from_body, store, repo, revision, body)
    finally:
        body.close()
    base = str(request.base_url).rstrip("/")
    return {
        "success": True,
        "commitOid": new_commit.oid,
        "commitUrl": f"{base}/{repo.repo_id}/commit/{new_commit.oid}",
        "pullRequestUrl": None,
    }


def _commit_from_body(store: Store, repo: Repo, branch: str, body: IO[bytes]) -> Commit:
    """Stage the body's files, publish the blobs, then commit (in a worker thread). A refused
    commit (412, a clash, a failed write) takes its blobs with it, unless another commit
    references them or another request has them pinned."""
    with store.blobs.staging() as staging:
        header, operations = parse_commit(body, staging, store.lfs)
        staging.publish()
        try:
            return store.commit(
                repo, branch, operations, title=header.summary, message=header.description,
                parent=header.parent_commit,
            )
        except BaseException:
            mine = staging.pinned
            staging.release()
            store.collect_garbage(mine)
            raise
