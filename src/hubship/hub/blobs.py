"""Content-addressed file contents, named by their git blob SHA-1 (what the Hub calls `oid`).

A blob is written to a staging folder first, fsynced, then renamed into `blobs/ab/cdef...`,
so a reader never sees half a file and a killed server leaves at most a stray staging folder
(removed at the next start). A blob nobody references is harmless: commits only ever point at
blobs that were complete before the commit's transaction began.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path


def git_blob_oid(data: bytes) -> str:
    """The git blob SHA-1 of `data`: the id git, the Hub and the client's cache use."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging_root = root.parent / "staging"
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.staging_root, ignore_errors=True)  # leftovers of a killed server
        self.staging_root.mkdir(parents=True, exist_ok=True)

    def path(self, oid: str) -> Path:
        return self.root / oid[:2] / oid[2:]

    def exists(self, oid: str) -> bool:
        return self.path(oid).is_file()

    def staging(self) -> Staging:
        return Staging(self)


class Staging:
    """Blobs of one request: staged as they arrive, published only if the request is valid."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.folder = store.staging_root / uuid.uuid4().hex
        self.folder.mkdir()
        self.staged: dict[str, Path] = {}

    def add(self, data: bytes) -> tuple[str, int]:
        oid = git_blob_oid(data)
        if oid not in self.staged and not self.store.exists(oid):
            tmp = self.folder / oid
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self.staged[oid] = tmp
        return oid, len(data)

    def publish(self) -> None:
        """Move every staged blob into the store (atomic renames), durable before returning."""
        touched: set[Path] = set()
        for oid, tmp in self.staged.items():
            final = self.store.path(oid)
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            touched.add(final.parent)
        for folder in touched:
            _fsync_dir(folder)
        self.staged.clear()

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
