"""Two clients committing on the same parent: exactly one new commit, the other gets 412."""

from __future__ import annotations

import threading

import pytest
from huggingface_hub import CommitOperationAdd
from huggingface_hub.errors import HfHubHTTPError


@pytest.mark.parametrize("round_", range(3))
def test_parent_commit_race_has_exactly_one_winner(hf_api, repo_id, round_):
    hf_api.create_repo(repo_id)
    parent = hf_api.model_info(repo_id).sha
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def publish(name: str) -> None:
        operation = CommitOperationAdd(path_in_repo=f"{name}.txt",
                                       path_or_fileobj=name.encode() * 50_000)
        start.wait()
        try:
            results[name] = hf_api.create_commit(repo_id, [operation], parent_commit=parent,
                                                 commit_message=f"from {name}")
        except HfHubHTTPError as exc:
            results[name] = exc

    threads = [threading.Thread(target=publish, args=(n,)) for n in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [n for n, r in results.items() if not isinstance(r, Exception)]
    losers = [r for r in results.values() if isinstance(r, HfHubHTTPError)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].response.status_code == 412
    commits = hf_api.list_repo_commits(repo_id)
    assert [c.commit_id for c in commits] == [results[winners[0]].oid, parent]
    assert hf_api.list_repo_files(repo_id) == [f"{winners[0]}.txt"]


def test_commit_with_a_stale_parent_gets_412(hf_api, repo_id):
    hf_api.create_repo(repo_id)
    stale = hf_api.model_info(repo_id).sha
    hf_api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id=repo_id)
    with pytest.raises(HfHubHTTPError) as exc:
        hf_api.create_commit(repo_id, [CommitOperationAdd("b.txt", b"2")],
                             commit_message="late", parent_commit=stale)
    assert exc.value.response.status_code == 412
    assert "refresh" in str(exc.value)
    assert hf_api.list_repo_files(repo_id) == ["a.txt"]
