"""Content-addressed file contents, named by their git blob SHA-1 (what the Hub calls `oid`).

A blob is written to a staging folder first, fsynced, then renamed into `blobs/ab/cdef...`,
so a reader never sees half a file and a killed server leaves at most a stray staging folder
(removed at the next start). Commits only ever point at blobs that were complete before the
commit's transaction began.

Blobs no commit references (a refused commit's, a deleted repo's) are garbage-collected: all of
them when the hub starts, a refused commit's own right after it is refused. A request pins
every blob it stages or reuses, from before it checks the blob exists until its commit is
stored or refused, and the collector skips pinned blobs and holds the pin lock while it works;
so a blob is never removed between "it exists, no need to store it" and the commit that
references it. One hub process per data dir (the pins live in memory).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path


def git_blob_oid(data: bytes) -> str:
    """The git blob SHA-1 of `data`: the id git, the Hub and the client's cache use."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def fsync_dir(path: Path) -> None:
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
        self._lock = threading.Lock()
        self._pins: Counter[str] = Counter()

    def path(self, oid: str) -> Path:
        return self.root / oid[:2] / oid[2:]

    def exists(self, oid: str) -> bool:
        return self.path(oid).is_file()

    def staging(self) -> Staging:
        return Staging(self)

    def pin(self, oid: str) -> None:
        with self._lock:
            self._pins[oid] += 1

    def unpin(self, oids: Iterable[str]) -> None:
        with self._lock:
            self._pins.subtract(oids)
            self._pins += Counter()  # drop the zero counts

    def stored_oids(self) -> list[str]:
        return [folder.name + file.name for folder in self.root.iterdir() if folder.is_dir()
                for file in folder.iterdir()]

    def collect(self, referenced: Callable[[Iterable[str] | None], set[str]],
                candidates: Iterable[str] | None = None) -> list[str]:
        """Remove the blobs (all, or only `candidates`) that are neither pinned nor in
        `referenced(candidates)`, read while holding the pin lock. Returns the removed oids."""
        with self._lock:
            oids = list(candidates) if candidates is not None else self.stored_oids()
            keep = referenced(oids if candidates is not None else None)
            removed = [oid for oid in oids if oid not in keep and not self._pins[oid]]
            for oid in removed:
                self.path(oid).unlink(missing_ok=True)
        return removed


class Staging:
    """Blobs of one request: staged as they arrive, published only if the request is valid,
    pinned (safe from the collector) until the request ends."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.folder = store.staging_root / uuid.uuid4().hex
        self.folder.mkdir()
        self.staged: dict[str, Path] = {}
        self.pinned: list[str] = []

    def add(self, data: bytes) -> tuple[str, int]:
        oid = git_blob_oid(data)
        self.store.pin(oid)  # before the exists() check: see the module doc
        self.pinned.append(oid)
        if oid not in self.staged and not self.store.exists(oid):
            tmp = self.folder / oid
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self.staged[oid] = tmp
        return oid, len(data)

    def new_sink(self) -> FileSink:
        """Where a streamed file content is written; closing it stages the blob."""
        return FileSink(self)

    def add_file(self, tmp: Path) -> tuple[str, int]:
        """Stage the complete, fsynced file `tmp` (moved or removed): its oid and size."""
        size = tmp.stat().st_size
        digest = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
        with open(tmp, "rb") as handle:
            while block := handle.read(1024 * 1024):
                digest.update(block)
        oid = digest.hexdigest()
        self.store.pin(oid)
        self.pinned.append(oid)
        if oid in self.staged or self.store.exists(oid):
            tmp.unlink()
        else:
            self.staged[oid] = tmp.rename(self.folder / oid)
        return oid, size

    def publish(self) -> None:
        """Move every staged blob into the store (atomic renames), durable before returning."""
        touched: set[Path] = set()
        for oid, tmp in self.staged.items():
            final = self.store.path(oid)
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            touched.add(final.parent)
        for folder in touched:
            fsync_dir(folder)
        self.staged.clear()

    def release(self) -> None:
        """Unpin this request's blobs (once its commit is stored or refused)."""
        self.store.unpin(self.pinned)
        self.pinned = []

    def discard(self) -> None:
        self.release()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


class FileSink:
    """A file content arriving in pieces (hubship.hub.ndjson_stream), staged when closed."""

    def __init__(self, staging: Staging) -> None:
        self.staging = staging
        self.path = staging.folder / f"incoming-{uuid.uuid4().hex}"
        self.handle = open(self.path, "wb")  # noqa: SIM115  (closed in close())

    def write(self, data: bytes) -> None:
        self.handle.write(data)

    def close(self) -> tuple[str, int]:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        return self.staging.add_file(self.path)
