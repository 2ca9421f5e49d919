"""Parse the commit NDJSON body the client sends, as a stream, staging file contents.

Any problem (bad JSON, unknown key, undecodable base64, a path escaping the repo, an LFS
pointer) raises BadRequest before the store is touched.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import IO, Any, cast

from hubship.hub.blobs import Staging, git_blob_oid
from hubship.hub.errors import BadRequest
from hubship.hub.lfs_store import LfsStore, check_oid
from hubship.hub.ndjson_stream import StreamedString, read_lines
from hubship.hub.records import AddFile, DeleteFile, DeleteFolder, Operation, lfs_pointer
from hubship.hub.validation import check_repo_path, is_full_sha


@dataclass(frozen=True)
class CommitHeader:
    summary: str
    description: str
    parent_commit: str | None


def _header(value: object) -> CommitHeader:
    if not isinstance(value, dict):
        raise BadRequest("the header line's 'value' must be an object")
    summary, description = value.get("summary"), value.get("description") or ""
    parent = value.get("parentCommit")
    if not isinstance(summary, str) or not summary.strip():
        raise BadRequest("the commit needs a non-empty 'summary' (the commit message)")
    if not isinstance(description, str):
        raise BadRequest("the commit 'description' must be a string")
    if parent is not None and not is_full_sha(parent):
        raise BadRequest(f"'parentCommit' must be a full 40-hex commit sha, not {parent!r}")
    return CommitHeader(summary.strip(), description, parent)


def _lfs_file(value: dict[str, Any], lfs: LfsStore) -> AddFile:
    """An `lfsFile` operation: a path pointing at an LFS object uploaded before the commit."""
    path = check_repo_path(value.get("path"))
    if value.get("algo", "sha256") != "sha256":
        raise BadRequest(f"LFS file {path!r}: only sha256 oids are supported")
    oid = check_oid(value.get("oid"))
    stored = lfs.stored_size(oid)
    if stored is None:
        raise BadRequest(f"LFS file {path!r} points at the object {oid}, which was never "
                         "uploaded: upload it through the LFS batch API, then commit")
    size = value.get("size", stored)  # a copy of an LFS file comes without its size
    if size != stored:
        raise BadRequest(f"LFS file {path!r}: the object {oid} is {stored} bytes, not {size!r}")
    return AddFile(path, git_blob_oid(lfs_pointer(oid, stored)), stored, lfs=oid)


def _operation(key: str, value: dict[str, Any], staging: Staging, lfs: LfsStore) -> Operation:
    if key == "file":
        path = check_repo_path(value.get("path"))
        content, encoding = value.get("content"), value.get("encoding", "base64")
        if encoding != "base64":
            raise BadRequest(f"file {path!r}: 'content' must be a base64 string")
        if isinstance(content, StreamedString):  # a long line: already decoded and staged
            oid, size = cast("tuple[str, int]", content.result)  # what Staging's sink returns
            return AddFile(path, oid, size)
        if not isinstance(content, str):
            raise BadRequest(f"file {path!r}: 'content' must be a base64 string")
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"file {path!r}: 'content' is not valid base64") from None
        oid, size = staging.add(data)
        return AddFile(path, oid, size)
    if key == "deletedFile":
        return DeleteFile(check_repo_path(value.get("path")))
    if key == "deletedFolder":
        raw = value.get("path")
        return DeleteFolder(check_repo_path(raw.rstrip("/") if isinstance(raw, str) else raw))
    if key == "lfsFile":
        return _lfs_file(value, lfs)
    raise BadRequest(
        f"unknown commit operation {key!r}: expected 'file', 'lfsFile', 'deletedFile' or "
        "'deletedFolder'"
    )


def parse_commit(body: IO[bytes], staging: Staging,
                 lfs: LfsStore) -> tuple[CommitHeader, list[Operation]]:
    """The header and operations of an NDJSON commit body, read as a stream (a file's content
    goes to the staging folder piece by piece, never whole into memory)."""
    header: CommitHeader | None = None
    operations: list[Operation] = []
    for number, item in read_lines(body, staging.new_sink):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise BadRequest(f'line {number}: expected an object {{"key": ..., "value": ...}}')
        key, value = item["key"], item.get("value")
        if header is None:
            if key != "header":
                raise BadRequest('the first line of the commit body must be the "header" line')
            header = _header(value)
            continue
        if not isinstance(value, dict):
            raise BadRequest(f"line {number}: 'value' must be an object")
        operations.append(_operation(key, value, staging, lfs))
    if header is None:
        raise BadRequest("the commit body is empty: send NDJSON, a header line then operations")
    return header, operations
