"""Blobs no commit references are removed: at start, and right after a refused commit; never
one a commit in flight is about to reference."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd
from huggingface_hub.errors import HfHubHTTPError

from hubship.hub.blobs import git_blob_oid
from hubship.hub.errors import HubHTTPError as HfHubError
from hubship.hub.storage import AddFile, Store

REPO = "team/models"


def _stored(data_dir: Path, data: bytes) -> bool:
    oid = git_blob_oid(data)
    return (data_dir / "blobs" / oid[:2] / oid[2:]).is_file()


def test_a_refused_commit_leaves_no_blob_behind(start_hub, api_for, tmp_path):
    data_dir = tmp_path / "hub-data"
    api = api_for(start_hub(data_dir).url)
    api.create_repo(REPO)
    first = api.upload_file(path_or_fileobj=b"kept", path_in_repo="a/kept.txt", repo_id=REPO)
    api.upload_file(path_or_fileobj=b"moved on", path_in_repo="b.txt", repo_id=REPO)

    with pytest.raises(HfHubHTTPError) as exc:  # 412: main moved since `first`
        api.create_commit(REPO, [CommitOperationAdd("c.txt", b"lost in a race")],
                          commit_message="stale", parent_commit=first.oid)
    assert exc.value.response.status_code == 412
    with pytest.raises(HfHubHTTPError) as exc:  # refused while storing: `a` is a folder
        api.create_commit(REPO, [CommitOperationAdd("a", b"file over a folder")],
                          commit_message="clash")
    assert exc.value.response.status_code == 400
    with pytest.raises(HfHubHTTPError):  # the same content as a kept file: the blob stays
        api.create_commit(REPO, [CommitOperationAdd("d.txt", b"kept")],
                          commit_message="stale too", parent_commit=first.oid)

    assert not _stored(data_dir, b"lost in a race")
    assert not _stored(data_dir, b"file over a folder")
    assert _stored(data_dir, b"kept") and _stored(data_dir, b"moved on")
    assert sorted(api.list_repo_files(REPO)) == ["a/kept.txt", "b.txt"]


def test_unreferenced_blobs_are_removed_when_the_hub_starts(start_hub, api_for, tmp_path):
    data_dir = tmp_path / "hub-data"
    hub = start_hub(data_dir)
    api = api_for(hub.url)
    api.create_repo(REPO)
    api.create_repo("team/doomed")
    api.upload_file(path_or_fileobj=b"kept", path_in_repo="kept.txt", repo_id=REPO)
    api.upload_file(path_or_fileobj=b"doomed", path_in_repo="d.txt", repo_id="team/doomed")
    api.delete_repo("team/doomed")
    hub.stop()
    stray = git_blob_oid(b"stray")  # e.g. published by a hub killed before its commit
    (data_dir / "blobs" / stray[:2]).mkdir(exist_ok=True)
    (data_dir / "blobs" / stray[:2] / stray[2:]).write_bytes(b"stray")

    again = start_hub(data_dir)
    assert not _stored(data_dir, b"stray") and not _stored(data_dir, b"doomed")
    assert _stored(data_dir, b"kept")
    assert "removed 2 blobs no commit references" in Path(again.log_path).read_text()
    assert api_for(again.url).list_repo_files(REPO) == ["kept.txt"]


def test_collection_never_removes_a_blob_a_commit_in_flight_needs(tmp_path: Path):
    """Writers commit shared and unique contents (some refused by a stale parent) while a
    collector runs without pause: every committed file's blob is there at the end."""
    store = Store(tmp_path)
    repo = store.create_repo("team", "models", private=False)
    stop = threading.Event()
    errors: list[BaseException] = []

    def collect() -> None:
        while not stop.is_set():
            store.collect_garbage()

    def write(worker: int) -> None:
        rng = random.Random(worker)
        try:
            for n in range(40):
                data = b"shared-%d" % rng.randrange(5) if n % 2 else b"w%d-%d" % (worker, n)
                parent = store.resolve(repo, "main")
                with store.blobs.staging() as staging:
                    oid, size = staging.add(data)
                    staging.publish()
                    try:
                        store.commit(repo, "main", [AddFile(f"w{worker}/{n}", oid, size)],
                                     title="x", parent=parent if n % 3 else None)
                    except HfHubError:
                        mine = staging.pinned
                        staging.release()
                        store.collect_garbage(mine)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    collector = threading.Thread(target=collect)
    collector.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    collector.join()

    assert errors == []
    files = store.files(repo, store.resolve(repo, "main"))
    assert len(files) > 40  # most commits landed, some lost races
    assert all(store.blobs.exists(f.oid) for f in files)
    assert sorted(store.collect_garbage()) == []  # nothing left over either


def test_lfs_objects_no_commit_references_go_once_past_the_grace_period(tmp_path: Path):
    import hashlib
    import os

    store = Store(tmp_path)
    repo = store.create_repo("team", "models", private=False)
    objects = {}
    for name in ("kept", "fresh", "stale"):
        oid = hashlib.sha256(name.encode()).hexdigest()
        path = store.lfs.path(oid)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(name.encode())
        objects[name] = path
    kept = hashlib.sha256(b"kept").hexdigest()
    store.commit(repo, "main", [AddFile("big.bin", "1" * 40, 4, lfs=kept)], title="big")
    hour_ago = os.stat(objects["stale"]).st_mtime - 3601
    for name in ("kept", "stale"):
        os.utime(objects[name], (hour_ago, hour_ago))

    Store(tmp_path)  # a restart

    assert objects["kept"].is_file()  # referenced
    assert objects["fresh"].is_file()  # maybe about to be committed
    assert not objects["stale"].exists()
