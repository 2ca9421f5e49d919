"""LFS objects: large files stored by their sha256 under `lfs/ab/cdef...`.

An upload streams to a staging file while it is hashed, in chunks as they arrive (memory stays
flat whatever the size), and is renamed into place only once its size and sha256 match what
the client announced: a mismatched or interrupted upload leaves nothing visible. A multipart
upload writes each part at its offset in one staging file; completing it checks every part
arrived, then hashes the whole file before publishing it.

Objects are shared by every repo. One no commit references is removed when the hub starts,
once it is older than `grace_seconds`: a client uploads its objects some time before the commit
that names them, and that commit may come after a restart.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from hubship.hub.blobs import fsync_dir
from hubship.hub.errors import BadRequest

SHA256 = re.compile(r"^[0-9a-f]{64}$")
READ_CHUNK = 1024 * 1024


def check_oid(value: object) -> str:
    if not isinstance(value, str) or not SHA256.match(value):
        raise BadRequest(f"an LFS oid must be a sha256 in lowercase hex (64 characters), "
                         f"not {value!r}")
    return value


def part_count(size: int, chunk_size: int) -> int:
    return max(1, -(-size // chunk_size))


class LfsStore:
    def __init__(self, root: Path, *, grace_seconds: float = 3600) -> None:
        self.root, self.grace_seconds = root, grace_seconds
        self.staging = root.parent / "lfs-staging"
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)  # upload URLs die with the process
        self.staging.mkdir()

    def path(self, oid: str) -> Path:
        return self.root / oid[:2] / oid[2:]

    def stored_size(self, oid: str) -> int | None:
        """The object's size, or None when it was never (completely) uploaded."""
        try:
            return self.path(oid).stat().st_size
        except FileNotFoundError:
            return None

    def _publish(self, tmp: Path, oid: str) -> None:
        final = self.path(oid)
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)
        fsync_dir(final.parent)

    async def receive(self, oid: str, size: int, body: AsyncIterator[bytes]) -> None:
        """A basic upload: the whole object in one body."""
        tmp = self.staging / f"{oid}.{uuid.uuid4().hex}"
        digest, received = hashlib.sha256(), 0
        try:
            with open(tmp, "wb") as handle:
                async for chunk in body:
                    received += len(chunk)
                    if received > size:
                        raise _mismatch(oid, size, f"more than {size} bytes arrived")
                    digest.update(chunk)
                    handle.write(chunk)
                if received != size:
                    raise _mismatch(oid, size, f"{received} bytes arrived")
                if digest.hexdigest() != oid:
                    raise _mismatch(oid, size, f"the bytes hash to {digest.hexdigest()}")
                await run_in_threadpool(os.fsync, handle.fileno())
            await run_in_threadpool(self._publish, tmp, oid)
        finally:
            tmp.unlink(missing_ok=True)

    def _upload_dir(self, oid: str, size: int, chunk_size: int) -> Path:
        return self.staging / f"{oid}-{size}-{chunk_size}"

    async def receive_part(self, oid: str, size: int, chunk_size: int, number: int,
                           body: AsyncIterator[bytes]) -> str:
        """Part `number` (from 1) of a multipart upload; returns its ETag."""
        count = part_count(size, chunk_size)
        if not 1 <= number <= count:
            raise BadRequest(f"part {number} does not exist: this upload has {count} parts")
        offset = (number - 1) * chunk_size
        expected = min(chunk_size, size - offset)
        folder = self._upload_dir(oid, size, chunk_size)
        folder.mkdir(exist_ok=True)
        marker = folder / f"part-{number}"
        marker.unlink(missing_ok=True)
        fd = os.open(folder / "object", os.O_WRONLY | os.O_CREAT, 0o600)
        received = 0
        try:
            async for chunk in body:
                if received + len(chunk) > expected:
                    raise BadRequest(f"part {number} of {oid} is {expected} bytes; more arrived")
                os.pwrite(fd, chunk, offset + received)
                received += len(chunk)
        finally:
            os.close(fd)
        if received != expected:
            raise BadRequest(f"part {number} of {oid} is {expected} bytes; {received} arrived")
        marker.write_text(str(received))
        return f'"{oid[:16]}-{number}"'

    def complete(self, oid: str, size: int, chunk_size: int) -> None:
        """Check every part arrived and the whole hashes to `oid`, then publish (blocking)."""
        folder = self._upload_dir(oid, size, chunk_size)
        count = part_count(size, chunk_size)
        missing = [n for n in range(1, count + 1) if not (folder / f"part-{n}").is_file()]
        if missing:
            raise BadRequest(f"cannot complete the upload of {oid}: parts {missing} never "
                             "arrived; upload them, then complete again")
        data = folder / "object"
        digest = hashlib.sha256()
        try:
            with open(data, "rb") as handle:
                while block := handle.read(READ_CHUNK):
                    digest.update(block)
                if handle.tell() != size:
                    raise _mismatch(oid, size, f"{handle.tell()} bytes arrived")
                os.fsync(handle.fileno())
            if digest.hexdigest() != oid:
                raise _mismatch(oid, size, f"the bytes hash to {digest.hexdigest()}")
            self._publish(data, oid)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def collect(self, referenced: set[str]) -> list[str]:
        """Remove objects no commit references that are older than the grace period."""
        cutoff = time.time() - self.grace_seconds
        removed = []
        for folder in self.root.iterdir():
            for file in folder.iterdir() if folder.is_dir() else ():
                oid = folder.name + file.name
                if oid not in referenced and file.stat().st_mtime < cutoff:
                    file.unlink(missing_ok=True)
                    removed.append(oid)
        return removed


def _mismatch(oid: str, size: int, what: str) -> BadRequest:
    return BadRequest(f"the uploaded object does not match its pointer (oid {oid}, size {size}): "
                      f"{what}; nothing was stored")
