"""Repos, branches, tags, refs, history and trees through the real client."""

from __future__ import annotations

import json

import httpx
import pytest
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError


def test_create_repo_conflict_exist_ok_and_url(hf_api, repo_id, hub_url):
    url = hf_api.create_repo(repo_id)
    assert url == f"{hub_url}/{repo_id}" and url.repo_id == repo_id
    with pytest.raises(HfHubHTTPError) as exc:
        hf_api.create_repo(repo_id)
    assert exc.value.response.status_code == 409
    assert hf_api.create_repo(repo_id, exist_ok=True).repo_id == repo_id


def test_repo_info_with_and_without_revision(hf_api, repo_id):
    hf_api.create_repo(repo_id)
    empty = hf_api.model_info(repo_id)
    assert empty.id == repo_id and len(empty.sha) == 40 and empty.siblings == []
    assert empty.private is False
    commit = hf_api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json",
                                repo_id=repo_id)
    hf_api.create_tag(repo_id, tag="rel/1.0")
    hf_api.upload_file(path_or_fileobj=b"x", path_in_repo="later.txt", repo_id=repo_id)

    at_tag = hf_api.repo_info(repo_id, revision="rel/1.0")
    assert at_tag.sha == commit.oid
    assert [s.rfilename for s in at_tag.siblings] == ["config.json"]
    assert hf_api.model_info(repo_id, revision=commit.oid).sha == commit.oid
    assert {s.rfilename for s in hf_api.model_info(repo_id).siblings} == {
        "config.json", "later.txt"}
    assert hf_api.model_info(repo_id, revision="main").sha != commit.oid


def test_private_flag_settings_and_delete_repo(hf_api, repo_id):
    hf_api.create_repo(repo_id, private=True)
    assert hf_api.model_info(repo_id).private is True
    hf_api.update_repo_settings(repo_id, private=False)
    assert hf_api.model_info(repo_id).private is False
    hf_api.delete_repo(repo_id)
    with pytest.raises(RepositoryNotFoundError):
        hf_api.model_info(repo_id)
    hf_api.delete_repo(repo_id, missing_ok=True)


def test_tags_and_branches(hf_api, repo_id):
    hf_api.create_repo(repo_id)
    first = hf_api.upload_file(path_or_fileobj=b"1", path_in_repo="f.txt", repo_id=repo_id)
    hf_api.create_tag(repo_id, tag="v1", tag_message="release 1")
    hf_api.create_branch(repo_id, branch="exp/wide")
    second = hf_api.upload_file(path_or_fileobj=b"2", path_in_repo="f.txt", repo_id=repo_id,
                                revision="exp/wide")
    hf_api.create_tag(repo_id, tag="exp-2", revision="exp/wide")

    refs = hf_api.list_repo_refs(repo_id)
    branches = {b.name: b.target_commit for b in refs.branches}
    tags = {t.name: t.target_commit for t in refs.tags}
    assert branches["exp/wide"] == second.oid and tags["exp-2"] == second.oid
    assert branches["main"] == first.oid and tags["v1"] == first.oid
    assert {t.ref for t in refs.tags} == {"refs/tags/v1", "refs/tags/exp-2"}
    assert refs.converts == []

    with pytest.raises(HfHubHTTPError) as exc:
        hf_api.create_tag(repo_id, tag="v1")
    assert exc.value.response.status_code == 409
    hf_api.create_tag(repo_id, tag="v1", exist_ok=True)
    with pytest.raises(HfHubHTTPError) as exc:
        hf_api.create_branch(repo_id, branch="exp/wide")
    assert exc.value.response.status_code == 409
    with pytest.raises(HfHubHTTPError) as exc:
        hf_api.delete_branch(repo_id, branch="main")
    assert exc.value.response.status_code == 403

    hf_api.create_branch(repo_id, branch="from-v1", revision="v1")
    hf_api.delete_branch(repo_id, branch="exp/wide")
    hf_api.delete_tag(repo_id, tag="exp-2")
    refs = hf_api.list_repo_refs(repo_id)
    assert {b.name for b in refs.branches} == {"main", "from-v1"}
    assert {t.name for t in refs.tags} == {"v1"}
    # the commit the deleted branch pointed at can still be read by sha
    assert hf_api.model_info(repo_id, revision=second.oid).sha == second.oid


def _follow_links(url: str) -> tuple[list[dict], int]:
    items, pages = [], 0
    while url:
        response = httpx.get(url)
        response.raise_for_status()
        items += response.json()
        pages += 1
        url = response.links.get("next", {}).get("url")
    return items, pages


def test_commit_history_is_paged_with_link_and_dates_in_utc(hf_api, repo_id, hub_url):
    hf_api.create_repo(repo_id)
    for n in range(4):
        hf_api.upload_file(path_or_fileobj=str(n).encode(), path_in_repo="n.txt",
                           repo_id=repo_id, commit_message=f"commit {n}")
    commits = hf_api.list_repo_commits(repo_id)
    assert [c.title for c in commits] == [f"commit {n}" for n in (3, 2, 1, 0)] + [
        "initial commit"]
    assert all(c.created_at.utcoffset().total_seconds() == 0 for c in commits)

    hf_api.create_tag(repo_id, tag="rel/4")
    items, pages = _follow_links(f"{hub_url}/api/models/{repo_id}/commits/rel%2F4?limit=2")
    assert pages == 3
    assert [i["id"] for i in items] == [c.commit_id for c in commits]
    assert all(i["date"].endswith("Z") for i in items)


def test_a_long_history_pages_through_every_commit_in_order(hf_api, repo_id, hub_url):
    hf_api.create_repo(repo_id)
    with httpx.Client(base_url=f"{hub_url}/api/models/{repo_id}") as client:
        for n in range(300):  # header-only commits: the quickest way to a long history
            line = json.dumps({"key": "header", "value": {"summary": f"commit {n}"}})
            client.post("/commit/main", content=line.encode()).raise_for_status()

    expected = [f"commit {n}" for n in reversed(range(300))] + ["initial commit"]
    assert [c.title for c in hf_api.list_repo_commits(repo_id)] == expected  # client paging
    items, pages = _follow_links(f"{hub_url}/api/models/{repo_id}/commits/main?limit=50")
    assert pages == 7
    assert [i["title"] for i in items] == expected


def test_tree_recursive_paged_and_under_a_folder(hf_api, repo_id, hub_url, tmp_path):
    folder = tmp_path / "many"
    (folder / "data").mkdir(parents=True)
    for n in range(1005):  # more than one page (1000) for the client's own paging
        (folder / "data" / f"{n:04}.txt").write_text(str(n))
    (folder / "top.txt").write_text("top")
    hf_api.create_repo(repo_id)
    hf_api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="many")

    entries = list(hf_api.list_repo_tree(repo_id, recursive=True))
    files = [e for e in entries if hasattr(e, "size") and e.__class__.__name__ == "RepoFile"]
    assert len(files) == 1006
    assert all(len(f.blob_id) == 40 and f.size > 0 for f in files)
    assert [e.path for e in hf_api.list_repo_tree(repo_id)] == ["data", "top.txt"]
    under = list(hf_api.list_repo_tree(repo_id, path_in_repo="data"))
    assert len(under) == 1005 and under[0].path == "data/0000.txt"

    items, pages = _follow_links(
        f"{hub_url}/api/models/{repo_id}/tree/main/data?recursive=true&limit=400")
    assert pages == 3 and [i["path"] for i in items] == [e.path for e in under]


def test_paths_info_and_file_exists(hf_api, repo_id):
    hf_api.create_repo(repo_id)
    hf_api.upload_file(path_or_fileobj=b"abc", path_in_repo="dir/a.txt", repo_id=repo_id)
    info = hf_api.get_paths_info(repo_id, ["dir/a.txt", "dir", "missing.txt"])
    assert [i.path for i in info] == ["dir/a.txt", "dir"]
    assert info[0].size == 3
    assert hf_api.file_exists(repo_id, "dir/a.txt")
    assert not hf_api.file_exists(repo_id, "dir/b.txt")


def test_ref_names_that_would_be_ambiguous_are_refused(hf_api, repo_id):
    from huggingface_hub.errors import BadRequestError

    hf_api.create_repo(repo_id)
    first = hf_api.upload_file(path_or_fileobj=b"1", path_in_repo="f.txt", repo_id=repo_id)
    hf_api.create_tag(repo_id, tag="v1")
    hf_api.create_branch(repo_id, branch="dev")
    hf_api.upload_file(path_or_fileobj=b"2", path_in_repo="f.txt", repo_id=repo_id)
    refs_before = hf_api.list_repo_refs(repo_id)

    refused = [
        (lambda: hf_api.create_branch(repo_id, branch="v1"), "a tag of that name"),
        (lambda: hf_api.create_branch(repo_id, branch="v1", exist_ok=True), "a tag of that"),
        (lambda: hf_api.create_tag(repo_id, tag="main"), "a branch of that name"),
        (lambda: hf_api.create_tag(repo_id, tag="dev", exist_ok=True), "a branch of that"),
        (lambda: hf_api.create_branch(repo_id, branch="HEAD"), "reserves"),
        (lambda: hf_api.create_tag(repo_id, tag="HEAD"), "reserves"),
    ]
    for call, message in refused:
        with pytest.raises(BadRequestError, match=message):
            call()

    assert hf_api.list_repo_refs(repo_id) == refs_before
    # MODEL_REVISION=v1 still means the tag
    assert hf_api.model_info(repo_id, revision="v1").sha == first.oid
