"""The Git LFS batch API, as `huggingface_hub` uses it for files preupload marked "lfs".

    POST /{ns}/{name}.git/info/lfs/objects/batch      (bearer token) which objects to send
    PUT  /api/lfs-objects/{oid}/{size}?...&sig=...      basic upload: the whole object
    PUT  /api/lfs-objects/{oid}/{size}/{part}?...       one part of a multipart upload
    POST /api/lfs-objects/{oid}/{size}?...              complete a multipart upload
    POST /{ns}/{name}.git/info/lfs/objects/verify      (bearer token) is the object stored?

The client sends upload and part requests without its token (they are pre-signed URLs on
huggingface.co), so their URLs carry their own credential: an HMAC, with a key that lives as
long as the hub process, over the oid, size, part size and expiry. It is checked before a byte
of the body is read. Objects over `chunk_size` go multipart, in parts of `chunk_size`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hubship.hub.deps import JsonBody, StoreDep, readable_repo
from hubship.hub.errors import BadRequest, Forbidden
from hubship.hub.lfs_store import check_oid, part_count
from hubship.hub.storage import Repo
from hubship.hub.validation import json_object

router = APIRouter()
LFS_JSON = "application/vnd.git-lfs+json"
SIGNED_PREFIX = "/api/lfs-objects/"
URL_LIFETIME = 24 * 3600
MAX_OBJECTS = 1000


def _signature(key: bytes, oid: str, size: int, chunk: int, expires: int) -> str:
    message = f"{oid}:{size}:{chunk}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _signed_url(request: Request, oid: str, size: int, chunk: int, suffix: str = "") -> str:
    expires = int(time.time()) + URL_LIFETIME
    sig = _signature(request.app.state.lfs_url_key, oid, size, chunk, expires)
    query = urlencode({"chunk": chunk, "expires": expires, "sig": sig})
    return f"{str(request.base_url).rstrip('/')}{SIGNED_PREFIX}{oid}/{size}{suffix}?{query}"


def _check_signature(request: Request, oid: str, size: int) -> int:
    """The part size the URL was signed for; Forbidden when the URL is forged or expired."""
    query = request.query_params
    try:
        chunk, expires = int(query.get("chunk", "")), int(query.get("expires", ""))
    except ValueError:
        raise Forbidden("this upload URL is not one the hub signed; ask the batch API "
                        "for a new one") from None
    expected = _signature(request.app.state.lfs_url_key, oid, size, chunk, expires)
    if not hmac.compare_digest(expected, query.get("sig", "")):
        raise Forbidden("this upload URL is not one the hub signed (or the hub restarted "
                        "since); ask the batch API for a new one")
    if expires < time.time():
        raise Forbidden("this upload URL has expired; ask the batch API for a new one")
    return chunk


def _repo_from_git_name(namespace: str, name_git: str, request: Request) -> Repo:
    if not name_git.endswith(".git"):
        raise BadRequest("LFS routes live under /{namespace}/{name}.git/info/lfs/")
    return readable_repo(namespace, name_git.removesuffix(".git"), request)


def _object(item: object, max_size: int) -> tuple[str, int]:
    if not isinstance(item, dict):
        raise BadRequest('each of "objects" must be {"oid": <sha256>, "size": <bytes>}')
    oid, size = check_oid(item.get("oid")), item.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise BadRequest(f"object {oid}: 'size' must be a number of bytes, not {size!r}")
    if size > max_size:
        raise BadRequest(f"object {oid} is {size} bytes, over this hub's limit of {max_size}")
    return oid, size


@router.post("/{namespace:seg}/{name_git:seg}/info/lfs/objects/batch")
def batch(namespace: str, name_git: str, request: Request, store: StoreDep,
          body: JsonBody) -> Response:
    """Upload actions for the objects the hub does not hold yet (none for those it holds)."""
    repo = _repo_from_git_name(namespace, name_git, request)
    body = json_object(body)
    if body.get("operation") != "upload":
        raise BadRequest("this hub's LFS batch API only uploads (operation 'upload'); "
                         f"download files through /{repo.repo_id}/resolve/<revision>/<path>")
    objects = body.get("objects")
    if not isinstance(objects, list) or len(objects) > MAX_OBJECTS:
        raise BadRequest(f"'objects' must be a list of at most {MAX_OBJECTS} objects")
    chunk: int = request.app.state.lfs_chunk_bytes
    base = str(request.base_url).rstrip("/")
    answer: list[dict[str, Any]] = []
    for item in objects:
        oid, size = _object(item, request.app.state.lfs_max_object_bytes)
        if store.lfs.stored_size(oid) == size:
            answer.append({"oid": oid, "size": size})  # no actions: already stored
            continue
        verify = {"href": f"{base}/{repo.repo_id}.git/info/lfs/objects/verify", "header": {}}
        if size <= chunk:
            upload = {"href": _signed_url(request, oid, size, 0), "header": {}}
        else:
            parts = {f"{n:05d}": _signed_url(request, oid, size, chunk, f"/{n}")
                     for n in range(1, part_count(size, chunk) + 1)}
            upload = {"href": _signed_url(request, oid, size, chunk),
                      "header": {"chunk_size": str(chunk), **parts}}
        answer.append({"oid": oid, "size": size, "authenticated": True,
                       "actions": {"upload": upload, "verify": verify}})
    return JSONResponse({"transfer": "basic", "objects": answer, "hash_algo": "sha256"},
                        media_type=LFS_JSON)


@router.put(SIGNED_PREFIX + "{oid}/{size:int}")
async def upload(oid: str, size: int, request: Request, store: StoreDep) -> Response:
    """Basic upload: stream the body to disk while hashing; stored only if it matches."""
    check_oid(oid)
    if _check_signature(request, oid, size) != 0:
        raise BadRequest("this URL is for a multipart upload: PUT its parts, then POST here")
    await store.lfs.receive(oid, size, request.stream())
    return Response(status_code=200)


@router.put(SIGNED_PREFIX + "{oid}/{size:int}/{part:int}")
async def upload_part(oid: str, size: int, part: int, request: Request,
                      store: StoreDep) -> Response:
    """One part of a multipart upload, written at its offset."""
    check_oid(oid)
    chunk = _check_signature(request, oid, size)
    if chunk <= 0:
        raise BadRequest("this URL is for a basic upload: PUT the whole object to it")
    etag = await store.lfs.receive_part(oid, size, chunk, part, request.stream())
    return Response(status_code=200, headers={"ETag": etag})


@router.post(SIGNED_PREFIX + "{oid}/{size:int}")
async def complete(oid: str, size: int, request: Request, store: StoreDep,
                   body: JsonBody) -> Response:
    """Complete a multipart upload: every part there, the whole matching its oid and size."""
    check_oid(oid)
    chunk = _check_signature(request, oid, size)
    body = json_object(body)
    if body.get("oid") != oid:
        raise BadRequest(f"the completion names {body.get('oid')!r}, not {oid}")
    await run_in_threadpool(store.lfs.complete, oid, size, chunk)
    return JSONResponse({"oid": oid, "size": size}, media_type=LFS_JSON)


@router.post("/{namespace:seg}/{name_git:seg}/info/lfs/objects/verify")
def verify(namespace: str, name_git: str, request: Request, store: StoreDep,
           body: JsonBody) -> Response:
    """200 when the object is stored with the given size, else 404 naming it."""
    _repo_from_git_name(namespace, name_git, request)
    oid, size = _object(json_object(body), request.app.state.lfs_max_object_bytes)
    stored = store.lfs.stored_size(oid)
    if stored != size:
        return JSONResponse({"message": f"object {oid} ({size} bytes) is not stored"
                                        + (f": the stored one is {stored} bytes" if stored
                                           is not None else "")},
                            status_code=404, media_type=LFS_JSON)
    return JSONResponse({"oid": oid, "size": size}, media_type=LFS_JSON)
