"""Large files go through LFS, as on huggingface.co: the real client uploads them through the
batch API (basic and multipart), the hub streams them to disk while hashing, refuses bytes that
do not match, and serves them with the headers the client's cache needs. Small threshold and
part size here; bench/hub_lfs.py runs 12 MB to 1 GB."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, hf_hub_download, snapshot_download
from huggingface_hub.errors import HfHubHTTPError

REPO = "team/models"
THRESHOLD, CHUNK = 100_000, 1024 * 1024
LFS_ARGS = ["--lfs-threshold-bytes", str(THRESHOLD), "--lfs-chunk-bytes", str(CHUNK)]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def lfs_hub(start_hub, tmp_path):
    return start_hub(tmp_path / "hub-data", args=LFS_ARGS)


@pytest.fixture
def release(tmp_path: Path) -> Path:
    folder = tmp_path / "release"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "forest.joblib").write_bytes(os.urandom(3 * CHUNK + 12345))  # parts
    (folder / "models" / "small.joblib").write_bytes(os.urandom(THRESHOLD + 1))  # basic
    (folder / "manifest.json").write_text('{"format": "hubship/1"}')  # regular
    return folder


def test_this_process_uploads_through_lfs_not_xet():
    import huggingface_hub.constants

    assert huggingface_hub.constants.HF_HUB_DISABLE_XET is True  # set by `import hubship`


def test_large_files_round_trip_through_lfs(lfs_hub, api_for, release, hf_cache,
                                            assert_same_files, tmp_path):
    api = api_for(lfs_hub.url)
    api.create_repo(REPO)
    commit = api.upload_folder(repo_id=REPO, folder_path=release, commit_message="r1")

    data_dir = tmp_path / "hub-data"
    forest = release / "models" / "forest.joblib"
    log = Path(lfs_hub.log_path).read_text()
    parts = f"/api/lfs-objects/{_sha256(forest)}/{forest.stat().st_size}"
    assert all(f"PUT {parts}/{n} 200" in log for n in range(1, 5))  # multipart: 4 parts
    assert f"POST {parts} 200" in log  # then completed
    for name in ("forest.joblib", "small.joblib"):
        oid = _sha256(release / "models" / name)
        assert (data_dir / "lfs" / oid[:2] / oid[2:]).is_file()  # stored as LFS objects
    path = Path(snapshot_download(REPO, cache_dir=hf_cache, endpoint=lfs_hub.url))
    assert path.name == commit.oid
    assert_same_files(path, release)
    # the client names its cached blob after the sha256, as with huggingface.co
    blob = Path(os.path.realpath(path / "models" / "forest.joblib"))
    assert blob.name == _sha256(forest)

    info = {i.path: i for i in api.get_paths_info(REPO, ["models/forest.joblib",
                                                         "manifest.json"])}
    lfs = info["models/forest.joblib"].lfs
    assert (lfs.sha256, lfs.size) == (_sha256(forest), forest.stat().st_size)
    assert lfs.pointer_size == len(f"version https://git-lfs.github.com/spec/v1\noid sha256:"
                                   f"{lfs.sha256}\nsize {lfs.size}\n")
    assert info["manifest.json"].lfs is None
    siblings = {s.rfilename: s for s in api.model_info(REPO, files_metadata=True).siblings}
    assert siblings["models/forest.joblib"].lfs.sha256 == _sha256(forest)
    assert siblings["models/forest.joblib"].size == forest.stat().st_size
    head = httpx.head(f"{lfs_hub.url}/{REPO}/resolve/main/models/forest.joblib")
    assert head.headers["x-linked-etag"] == f'"{_sha256(forest)}"'
    assert head.headers["x-linked-size"] == str(forest.stat().st_size)
    assert head.headers["x-repo-commit"] == commit.oid

    # unchanged files are left out: the second upload of the same folder commits nothing new
    again = api.upload_folder(repo_id=REPO, folder_path=release, commit_message="r2")
    assert again.oid == commit.oid
    # a range request (a resumed download) gets the right bytes
    part = httpx.get(f"{lfs_hub.url}/{REPO}/resolve/main/models/forest.joblib",
                     headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == forest.read_bytes()[100:200]
    one = hf_hub_download(REPO, "models/small.joblib", cache_dir=tmp_path / "other-cache",
                          endpoint=lfs_hub.url)
    assert _sha256(Path(one)) == _sha256(release / "models" / "small.joblib")


def _batch(url: str, oid: str, size: int, headers: dict | None = None) -> httpx.Response:
    return httpx.post(f"{url}/{REPO}.git/info/lfs/objects/batch", headers=headers or {},
                      json={"operation": "upload", "transfers": ["basic", "multipart"],
                            "objects": [{"oid": oid, "size": size}], "hash_algo": "sha256"})


def test_bytes_that_do_not_match_their_pointer_are_refused_and_nothing_is_stored(
    lfs_hub, api_for, tmp_path
):
    api = api_for(lfs_hub.url)
    api.create_repo(REPO)
    data = os.urandom(200_000)
    oid = hashlib.sha256(data).hexdigest()
    action = _batch(lfs_hub.url, oid, len(data)).json()["objects"][0]["actions"]
    upload, verify = action["upload"]["href"], action["verify"]["href"]

    wrong = httpx.put(upload, content=os.urandom(200_000))  # right size, other bytes
    assert wrong.status_code == 400 and "does not match" in wrong.json()["error"]
    short = httpx.put(upload, content=data[:-1])
    assert short.status_code == 400 and "199999 bytes arrived" in short.json()["error"]
    long = httpx.put(upload, content=data + b"x")
    assert long.status_code == 400
    forged = httpx.put(upload.replace("sig=", "sig=0"), content=data)
    assert forged.status_code == 403
    assert httpx.post(verify, json={"oid": oid, "size": len(data)}).status_code == 404
    assert not any((tmp_path / "hub-data" / "lfs").rglob("*.*"))
    assert not [p for p in (tmp_path / "hub-data" / "lfs").rglob("*") if p.is_file()]

    # the right bytes are stored, and the batch then asks for nothing
    assert httpx.put(upload, content=data).status_code == 200
    assert httpx.post(verify, json={"oid": oid, "size": len(data)}).status_code == 200
    assert "actions" not in _batch(lfs_hub.url, oid, len(data)).json()["objects"][0]


def test_a_commit_naming_an_object_never_uploaded_is_refused_whole(lfs_hub, api_for):
    api = api_for(lfs_hub.url)
    api.create_repo(REPO)
    api.upload_file(path_or_fileobj=b"keep", path_in_repo="keep.txt", repo_id=REPO)
    missing = "ab" * 32
    body = (b'{"key": "header", "value": {"summary": "x"}}\n'
            b'{"key": "file", "value": {"path": "a.txt", "encoding": "base64", '
            b'"content": "YQ=="}}\n'
            b'{"key": "lfsFile", "value": {"path": "big.bin", "algo": "sha256", "oid": "'
            + missing.encode() + b'", "size": 5}}\n')
    response = httpx.post(f"{lfs_hub.url}/api/models/{REPO}/commit/main", content=body,
                          headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 400
    assert missing in response.json()["error"] and "never" in response.json()["error"]
    assert api.list_repo_files(REPO) == ["keep.txt"]


def test_a_client_gone_mid_upload_leaves_no_partial_object(lfs_hub, api_for, tmp_path):
    api_for(lfs_hub.url).create_repo(REPO)
    data = os.urandom(500_000)
    oid = hashlib.sha256(data).hexdigest()
    upload = _batch(lfs_hub.url, oid, len(data)).json()["objects"][0]["actions"]["upload"]
    url = httpx.URL(upload["href"])
    with socket.create_connection((url.host, url.port)) as sock:
        target = url.raw_path.decode()
        sock.sendall(f"PUT {target} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
                     f"Content-Length: {len(data)}\r\n\r\n".encode() + data[:250_000])
    # the hub notices the disconnect; then no object, no staging file is left
    verify = httpx.post(f"{lfs_hub.url}/{REPO}.git/info/lfs/objects/verify",
                        json={"oid": oid, "size": len(data)})
    assert verify.status_code == 404
    import time

    deadline = time.monotonic() + 10
    while any((tmp_path / "hub-data" / "lfs-staging").iterdir()):
        assert time.monotonic() < deadline, "the partial upload was never cleaned up"
        time.sleep(0.1)
    assert not [p for p in (tmp_path / "hub-data" / "lfs").rglob("*") if p.is_file()]


def test_the_lfs_routes_need_the_token_but_signed_urls_carry_their_own(start_hub, api_for,
                                                                       tmp_path):
    hub = start_hub(token="s3cret", args=LFS_ARGS)
    owner = api_for(hub.url, "s3cret")
    owner.create_repo(REPO, private=True)
    data = os.urandom(THRESHOLD * 2)
    oid = hashlib.sha256(data).hexdigest()
    assert _batch(hub.url, oid, len(data)).status_code == 401
    owner.create_commit(REPO, [CommitOperationAdd("big.bin", data)], commit_message="big")
    assert owner.get_paths_info(REPO, ["big.bin"])[0].lfs.sha256 == oid
    path = hf_hub_download(REPO, "big.bin", cache_dir=tmp_path / "cache", endpoint=hub.url,
                           token="s3cret")
    assert Path(path).read_bytes() == data
    with pytest.raises(HfHubHTTPError):
        hf_hub_download(REPO, "big.bin", cache_dir=tmp_path / "anon", endpoint=hub.url,
                        token=False)


def test_xet_clients_are_told_how_to_switch_xet_off(lfs_hub):
    answer = httpx.get(f"{lfs_hub.url}/api/models/{REPO}/xet-write-token/main")
    assert answer.status_code == 501
    assert "HF_HUB_DISABLE_XET=1" in answer.json()["error"]
