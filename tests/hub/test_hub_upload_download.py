"""Publish with the real client and get the very same bytes back at every kind of revision."""

from __future__ import annotations

from pathlib import Path

import httpx
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    hf_hub_download,
    snapshot_download,
)


def test_upload_folder_then_snapshot_at_main_tag_slash_tag_and_sha(
    hf_api, repo_id, sample_folder, hf_cache, hub_url, assert_same_files
):
    hf_api.create_repo(repo_id)
    commit = hf_api.upload_folder(repo_id=repo_id, folder_path=sample_folder,
                                  commit_message="release 1")
    hf_api.create_tag(repo_id, tag="v1")
    hf_api.create_tag(repo_id, tag="rel/1.0", tag_message="first release")

    for revision in ("main", "v1", "rel/1.0", commit.oid):
        path = snapshot_download(repo_id, revision=revision, cache_dir=hf_cache,
                                 endpoint=hub_url)
        assert Path(path).name == commit.oid
        assert_same_files(Path(path), sample_folder)


def test_create_commit_of_a_folder_then_delete_file_and_folder(
    hf_api, repo_id, sample_folder, hf_cache, hub_url, assert_same_files
):
    hf_api.create_repo(repo_id)
    head = hf_api.model_info(repo_id).sha
    operations = [
        CommitOperationAdd(path_in_repo=str(p.relative_to(sample_folder)), path_or_fileobj=p)
        for p in sorted(sample_folder.rglob("*")) if p.is_file()
    ]
    first = hf_api.create_commit(repo_id, operations, commit_message="release",
                                 commit_description="all files at once", parent_commit=head)
    assert hf_api.model_info(repo_id).sha == first.oid
    assert_same_files(
        Path(snapshot_download(repo_id, cache_dir=hf_cache, endpoint=hub_url)), sample_folder
    )

    second = hf_api.create_commit(repo_id, [
        CommitOperationDelete(path_in_repo="plots/"),
        CommitOperationDelete(path_in_repo="manifest.json"),
        CommitOperationAdd(path_in_repo="notes/new.txt", path_or_fileobj=b"hello"),
    ], commit_message="tidy", parent_commit=first.oid)
    files = sorted(hf_api.list_repo_files(repo_id))
    assert files == ["README.md", "models/model.bin", "notes/new.txt"]
    # the older commit is untouched
    assert "manifest.json" in hf_api.list_repo_files(repo_id, revision=first.oid)
    commits = hf_api.list_repo_commits(repo_id)
    assert [c.commit_id for c in commits[:2]] == [second.oid, first.oid]
    assert commits[1].title == "release" and commits[1].message == "all files at once"


def test_unchanged_files_are_left_out_and_an_unchanged_upload_makes_no_commit(
    hf_api, repo_id, sample_folder
):
    hf_api.create_repo(repo_id)
    first = hf_api.upload_folder(repo_id=repo_id, folder_path=sample_folder,
                                 commit_message="one")
    again = hf_api.upload_folder(repo_id=repo_id, folder_path=sample_folder,
                                 commit_message="two")
    assert again.oid == first.oid
    assert len(hf_api.list_repo_commits(repo_id)) == 2  # initial commit + one


def test_resolve_headers_range_and_no_compression(hf_api, repo_id, sample_folder, hub_url):
    hf_api.create_repo(repo_id)
    commit = hf_api.upload_folder(repo_id=repo_id, folder_path=sample_folder,
                                  commit_message="one")
    data = (sample_folder / "models" / "model.bin").read_bytes()
    url = f"{hub_url}/{repo_id}/resolve/main/models/model.bin"
    blob_oid = next(f.blob_id for f in hf_api.list_repo_tree(repo_id, "models"))

    head = httpx.head(url, headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200
    assert head.headers["ETag"] == f'"{blob_oid}"'
    assert head.headers["X-Repo-Commit"] == commit.oid
    assert int(head.headers["Content-Length"]) == len(data)
    assert "content-encoding" not in head.headers

    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert httpx.get(url, headers={"Range": f"bytes={len(data) + 5}-"}).status_code == 416


def test_hf_hub_download_of_one_file_at_a_revision(hf_api, repo_id, hf_cache, hub_url):
    hf_api.create_repo(repo_id)
    hf_api.upload_file(path_or_fileobj=b"v1", path_in_repo="a/b.txt", repo_id=repo_id)
    hf_api.create_tag(repo_id, tag="v1")
    hf_api.upload_file(path_or_fileobj=b"v2", path_in_repo="a/b.txt", repo_id=repo_id)

    def fetch(revision: str) -> bytes:
        return Path(hf_hub_download(repo_id, "a/b.txt", revision=revision, cache_dir=hf_cache,
                                    endpoint=hub_url)).read_bytes()

    assert fetch("v1") == b"v1"
    assert fetch("main") == b"v2"
