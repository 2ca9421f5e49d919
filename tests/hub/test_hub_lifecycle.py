"""The hub as a process: restarts, crashes, offline caches and tokens."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from huggingface_hub import hf_hub_download, snapshot_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from hubship.hub.app import PAUSE_LOG_LINE, TEST_PAUSE_BEFORE_COMMIT_ENV
from hubship.hub.blobs import git_blob_oid

REPO = "team/models"


def test_restart_keeps_repos_commits_tags_and_files(start_hub, api_for, sample_folder,
                                                    hf_cache, tmp_path, assert_same_files):
    data_dir = tmp_path / "hub-data"
    hub = start_hub(data_dir)
    api = api_for(hub.url)
    api.create_repo(REPO, private=True)
    commit = api.upload_folder(repo_id=REPO, folder_path=sample_folder, commit_message="r1")
    api.create_tag(REPO, tag="rel/1.0")
    api.create_branch(REPO, branch="dev")
    before = (api.list_repo_refs(REPO), api.list_repo_commits(REPO))
    hub.stop()

    again = start_hub(data_dir)
    api = api_for(again.url)
    assert (api.list_repo_refs(REPO), api.list_repo_commits(REPO)) == before
    assert api.model_info(REPO).private is True
    path = snapshot_download(REPO, revision="rel/1.0", cache_dir=hf_cache, endpoint=again.url)
    assert Path(path).name == commit.oid
    assert_same_files(Path(path), sample_folder)


def _integrity_check(db_path: Path) -> str:
    script = ("import sqlite3, sys; "
              "print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])")
    result = subprocess.run([sys.executable, "-c", script, str(db_path)],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def _wait_for_line(log_path: Path, line: str, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while line not in log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"the hub never logged {line!r}"
        time.sleep(0.05)


def test_killed_with_the_commit_transaction_open_keeps_the_old_state(start_hub, api_for,
                                                                     tmp_path):
    """The worst moment to die: the new commit's blob is published and its rows are written
    in an open SQLite transaction, with the branch moved, but nothing is COMMITted yet. The
    test-only pause (HUBSHIP_HUB_TEST_PAUSE_BEFORE_COMMIT) holds the hub there for the kill."""
    data_dir = tmp_path / "hub-data"
    hub = start_hub(data_dir)
    api = api_for(hub.url)
    api.create_repo(REPO)
    first = api.upload_file(path_or_fileobj=b"safe", path_in_repo="safe.txt", repo_id=REPO)
    hub.stop()

    paused = start_hub(data_dir, env={TEST_PAUSE_BEFORE_COMMIT_ENV: "120"})
    body = json.dumps({"key": "header", "value": {"summary": "never lands"}}) + "\n" + json.dumps(
        {"key": "file", "value": {"path": "lost.txt", "encoding": "base64",
                                  "content": base64.b64encode(b"lost").decode()}})

    def post() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies under us: expected
            httpx.post(f"{paused.url}/api/models/{REPO}/commit/main", content=body.encode(),
                       timeout=180)

    sender = threading.Thread(target=post)
    sender.start()
    _wait_for_line(Path(paused.log_path), PAUSE_LOG_LINE)
    paused.kill()
    sender.join()
    lost = git_blob_oid(b"lost")
    assert (data_dir / "blobs" / lost[:2] / lost[2:]).is_file()  # the kill came after publish

    again = start_hub(data_dir)
    api = api_for(again.url)
    assert api.model_info(REPO).sha == first.oid
    assert api.list_repo_files(REPO) == ["safe.txt"]
    assert len(api.list_repo_commits(REPO)) == 2  # the initial commit and the first upload
    assert _integrity_check(data_dir / "hub.sqlite3") == "ok"
    ok = api.upload_file(path_or_fileobj=b"after", path_in_repo="after.txt", repo_id=REPO)
    assert api.model_info(REPO).sha == ok.oid
    assert api.list_repo_files(REPO) == ["after.txt", "safe.txt"]


def test_killed_while_receiving_a_commit_body_leaves_the_data_dir_consistent(
    start_hub, api_for, tmp_path
):
    """A kill while the body is still arriving (before anything is parsed or staged)."""
    data_dir = tmp_path / "hub-data"
    hub = start_hub(data_dir)
    api = api_for(hub.url)
    api.create_repo(REPO)
    first = api.upload_file(path_or_fileobj=b"safe", path_in_repo="safe.txt", repo_id=REPO)
    sending = threading.Event()

    def slow_body():
        yield b'{"key": "header", "value": {"summary": "never lands"}}\n'
        yield b'{"key": "file", "value": {"path": "big.bin", "encoding": "base64", "content": "'
        sending.set()
        for _ in range(200):
            yield b"QUJD" * 4096
            threading.Event().wait(0.01)

    def post() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies under us: expected
            httpx.post(f"{hub.url}/api/models/{REPO}/commit/main", content=slow_body())

    sender = threading.Thread(target=post)
    sender.start()
    assert sending.wait(10)
    hub.kill()
    sender.join()

    again = start_hub(data_dir)
    api = api_for(again.url)
    assert api.model_info(REPO).sha == first.oid
    assert api.list_repo_files(REPO) == ["safe.txt"]
    assert not any((data_dir / "staging").iterdir())
    ok = api.upload_file(path_or_fileobj=b"after", path_in_repo="after.txt", repo_id=REPO)
    assert api.model_info(REPO).sha == ok.oid
    assert _integrity_check(data_dir / "hub.sqlite3") == "ok"


def test_downloads_come_from_the_cache_when_the_server_is_stopped_or_offline(
    start_hub, api_for, sample_folder, hf_cache, assert_same_files
):
    hub = start_hub()
    api = api_for(hub.url)
    api.create_repo(REPO)
    commit = api.upload_folder(repo_id=REPO, folder_path=sample_folder, commit_message="r1")
    api.create_tag(REPO, tag="rel/1.0")
    for revision in ("main", "rel/1.0"):
        snapshot_download(REPO, revision=revision, cache_dir=hf_cache, endpoint=hub.url)
    hub.stop()

    path = snapshot_download(REPO, revision="rel/1.0", cache_dir=hf_cache, endpoint=hub.url)
    assert Path(path).name == commit.oid
    assert_same_files(Path(path), sample_folder)
    one = hf_hub_download(REPO, "manifest.json", cache_dir=hf_cache, endpoint=hub.url)
    assert Path(one).read_bytes() == (sample_folder / "manifest.json").read_bytes()

    # HF_HUB_OFFLINE is read when huggingface_hub is imported: check it in a fresh process
    script = (
        "import sys; from huggingface_hub import snapshot_download; "
        "print(snapshot_download(sys.argv[1], revision=sys.argv[2], cache_dir=sys.argv[3]))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": hub.url}
    for revision in ("main", "rel/1.0"):
        result = subprocess.run([sys.executable, "-c", script, REPO, revision, str(hf_cache)],
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        offline = Path(result.stdout.strip().splitlines()[-1])
        assert offline.name == commit.oid
        assert_same_files(offline, sample_folder)


def test_token_guards_writes_and_private_repos(start_hub, api_for, hf_cache):
    hub = start_hub(token="s3cret-token")
    owner, anonymous, wrong = (api_for(hub.url, token) for token in
                               ("s3cret-token", False, "not-the-token"))

    for api in (anonymous, wrong):
        with pytest.raises(HfHubHTTPError) as exc:
            api.create_repo("team/public")
        assert exc.value.response.status_code == 401
        assert "token" in str(exc.value)

    owner.create_repo("team/public")
    owner.upload_file(path_or_fileobj=b"open", path_in_repo="a.txt", repo_id="team/public")
    with pytest.raises(HfHubHTTPError) as exc:
        anonymous.upload_file(path_or_fileobj=b"x", path_in_repo="b.txt", repo_id="team/public")
    assert exc.value.response.status_code == 401
    assert anonymous.list_repo_files("team/public") == ["a.txt"]  # public reads stay open

    owner.create_repo("team/secret", private=True)
    owner.upload_file(path_or_fileobj=b"hidden", path_in_repo="s.txt", repo_id="team/secret")
    with pytest.raises(RepositoryNotFoundError):
        anonymous.model_info("team/secret")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("team/secret", "s.txt", cache_dir=hf_cache, endpoint=hub.url,
                        token=False)
    assert "team/secret" not in httpx.get(hub.url).text
    assert owner.model_info("team/secret").private is True
    path = hf_hub_download("team/secret", "s.txt", cache_dir=hf_cache, endpoint=hub.url,
                           token="s3cret-token")
    assert Path(path).read_bytes() == b"hidden"
    log = Path(hub.log_path).read_text()
    assert "s3cret-token" not in log
    assert "POST /api/repos/create 401" in log
