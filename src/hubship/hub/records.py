"""The hub's records (repos, commits, files, refs, commit operations) and the pure functions
on them: ids and applying operations to a commit's file map."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from hubship.hub.errors import BadRequest, EntryNotFound

AUTHOR = "hubship"


def utc_now() -> str:
    """Now, as the Hub writes dates: ISO 8601 with milliseconds and a trailing Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Repo:
    id: int
    namespace: str
    name: str
    private: bool
    created_at: str

    @property
    def repo_id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Commit:
    oid: str
    parent: str | None
    title: str
    message: str
    author: str
    created_at: str


@dataclass(frozen=True)
class FileEntry:
    """A file in a commit. `oid` is the git blob SHA-1 (of the LFS pointer for an LFS file);
    `lfs` is the LFS object's sha256 when the file is stored through LFS."""

    path: str
    oid: str
    size: int
    lfs: str | None = None


@dataclass(frozen=True)
class Ref:
    kind: str  # "branch" or "tag"
    name: str
    target: str


@dataclass(frozen=True)
class AddFile:
    path: str
    oid: str
    size: int
    lfs: str | None = None


@dataclass(frozen=True)
class DeleteFile:
    path: str


@dataclass(frozen=True)
class DeleteFolder:
    path: str


Operation = AddFile | DeleteFile | DeleteFolder


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The Git LFS pointer file standing for an LFS object (what git would store)."""
    return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\n"
            f"size {size}\n").encode()


def tree_oid(entries: Sequence[FileEntry]) -> str:
    """A stable id for a set of files (a folder's `oid` in tree listings)."""
    digest = hashlib.sha1(usedforsecurity=False)
    for entry in sorted(entries, key=lambda e: e.path):
        digest.update(f"{entry.path}\0{entry.oid}\n".encode())
    return digest.hexdigest()


def commit_oid(files: dict[str, FileEntry], parent: str | None, title: str, message: str,
                created_at: str) -> str:
    """The commit's id: a hash of everything it holds, JSON-encoded so that two different
    commits never share an encoding. Equal ids mean equal commits (as in git)."""
    fields = orjson.dumps(
        [tree_oid(list(files.values())), parent, created_at, AUTHOR, title, message]
    )
    return hashlib.sha1(b"commit %d\0" % len(fields) + fields, usedforsecurity=False).hexdigest()


def apply_operation(files: dict[str, FileEntry], op: Operation, head: str) -> None:
    """Apply one operation to a commit's file map; a clash or a missing entry is an error."""
    if isinstance(op, AddFile):
        if any(p.startswith(op.path + "/") for p in files):
            raise BadRequest(f"cannot add file {op.path!r}: a folder of that name exists")
        parts = op.path.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in files:
                raise BadRequest(
                    f"cannot add {op.path!r}: {'/'.join(parts[:i])!r} is a file, not a folder"
                )
        files[op.path] = FileEntry(op.path, op.oid, op.size, op.lfs)
    elif isinstance(op, DeleteFile):
        if files.pop(op.path, None) is None:
            raise EntryNotFound(
                f"A file with this name doesn't exist: {op.path!r} (to delete a folder, "
                "end its path with '/')", commit=head,
            )
    else:
        inside = [p for p in files if p.startswith(op.path + "/")]
        if not inside:
            raise EntryNotFound(f"No folder named {op.path!r} in the repo", commit=head)
        for path in inside:
            del files[path]
