"""The store on its own: commit ids and history, with a clock the test controls."""

from __future__ import annotations

from pathlib import Path

from hubship.hub.storage import AddFile, Store

FROZEN = "2026-11-01T12:00:00.000Z"


def test_the_same_commit_on_two_branches_in_the_same_millisecond_is_one_commit(tmp_path: Path):
    store = Store(tmp_path, clock=lambda: FROZEN)
    repo = store.create_repo("team", "models", private=False)
    start = store.resolve(repo, "main")
    store.create_ref(repo, "branch", "dev", start)

    on_main = store.commit(repo, "main", [], title="same")
    on_dev = store.commit(repo, "dev", [], title="same")  # was sqlite3.IntegrityError (a 500)

    assert on_main.oid == on_dev.oid  # identical commit objects, as in git
    assert store.resolve(repo, "main") == store.resolve(repo, "dev") == on_main.oid
    assert [c.oid for c in store.history(repo, on_dev.oid)] == [on_main.oid, start]

    store.blobs.path("0" * 40).parent.mkdir(exist_ok=True)
    store.blobs.path("0" * 40).write_bytes(b"")  # a blob for the next commit to point at
    moved = store.commit(repo, "dev", [AddFile("a.txt", "0" * 40, 0)], title="same")
    assert moved.oid != on_main.oid
    assert [f.path for f in store.files(repo, store.resolve(repo, "dev"))] == ["a.txt"]
    assert store.files(repo, store.resolve(repo, "main")) == []


def test_different_titles_and_messages_never_share_an_id(tmp_path: Path):
    store = Store(tmp_path, clock=lambda: FROZEN)
    repo = store.create_repo("team", "models", private=False)
    store.create_ref(repo, "branch", "dev", store.resolve(repo, "main"))

    one = store.commit(repo, "main", [], title="a\n\nb", message="")
    two = store.commit(repo, "dev", [], title="a", message="b\n\n")

    assert one.oid != two.oid
    assert store.get_commit(repo, one.oid).title == "a\n\nb"
    assert store.get_commit(repo, two.oid).message == "b\n\n"


def test_history_pages_through_300_commits_in_order(tmp_path: Path):
    store = Store(tmp_path)
    repo = store.create_repo("team", "models", private=False)
    for number in range(300):
        store.commit(repo, "main", [], title=f"commit {number}")
    head = store.resolve(repo, "main")

    titles = [c.title for skip in range(0, 350, 50)
              for c in store.history(repo, head, skip=skip, limit=50)]

    assert titles == [f"commit {n}" for n in reversed(range(300))] + ["initial commit"]
    assert [c.title for c in store.history(repo, head, skip=298, limit=5)] == [
        "commit 1", "commit 0", "initial commit"]
    assert store.history(repo, head, skip=301, limit=5) == []
