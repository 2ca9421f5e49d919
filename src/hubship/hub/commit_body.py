"""Parse the commit NDJSON body the client sends, line by line, staging file contents.

Any problem (bad JSON, unknown key, undecodable base64, a path escaping the repo, an LFS
pointer) raises BadRequest before the store is touched.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from hubship.hub.blobs import Staging
from hubship.hub.errors import BadRequest
from hubship.hub.records import AddFile, DeleteFile, DeleteFolder, Operation
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


def _operation(key: str, value: dict, staging: Staging) -> Operation:
    if key == "file":
        path = check_repo_path(value.get("path"))
        content, encoding = value.get("content"), value.get("encoding", "base64")
        if encoding != "base64" or not isinstance(content, str):
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
        raise BadRequest(
            f"{value.get('path')!r} was sent as an LFS file, but this hub stores every file "
            "inline (preupload always answers 'regular'); upload it again with a current client"
        )
    raise BadRequest(
        f"unknown commit operation {key!r}: expected 'file', 'deletedFile' or 'deletedFolder'"
    )


def parse_commit(lines: Iterable[bytes], staging: Staging) -> tuple[CommitHeader, list[Operation]]:
    header: CommitHeader | None = None
    operations: list[Operation] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"line {number} of the commit body is not valid JSON: {exc}") from None
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
        operations.append(_operation(key, value, staging))
    if header is None:
        raise BadRequest("the commit body is empty: send NDJSON, a header line then operations")
    return header, operations
