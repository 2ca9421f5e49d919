"""Repos, commits, files and refs in SQLite (WAL mode); file contents in a BlobStore.

Every commit is a full snapshot of the repo's files (path -> blob oid, size) plus its parent,
written in ONE transaction together with the branch move. The branch only moves if it still
points at the commit the writer started from (compare-and-swap under `BEGIN IMMEDIATE`), so
two writers on the same parent leave exactly one new commit; the other gets 412.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hubship.hub.blobs import BlobStore
from hubship.hub.errors import (
    BadRequest,
    Conflict,
    PreconditionFailed,
    RepoNotFound,
    RevisionNotFound,
)
from hubship.hub.lfs_store import LfsStore
from hubship.hub.records import (
    AUTHOR,
    AddFile,
    Commit,
    DeleteFile,
    DeleteFolder,
    FileEntry,
    Operation,
    Ref,
    Repo,
    apply_operation,
    commit_oid,
    tree_oid,
    utc_now,
)
from hubship.hub.validation import is_full_sha
from hubship.hub.webhooks import SCHEMA as WEBHOOK_SCHEMA
from hubship.hub.webhooks import Webhook, record

__all__ = ["AddFile", "Commit", "DeleteFile", "DeleteFolder", "FileEntry", "Operation", "Ref",
           "Repo", "Store", "tree_oid", "DEFAULT_BRANCH"]
DEFAULT_BRANCH = "main"
log = logging.getLogger("hubship.hub")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS repos (
    id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL,
    private INTEGER NOT NULL, created_at TEXT NOT NULL, UNIQUE (namespace, name));
CREATE TABLE IF NOT EXISTS commits (
    repo_id INTEGER NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    oid TEXT NOT NULL, parent TEXT, title TEXT NOT NULL, message TEXT NOT NULL,
    author TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (repo_id, oid));
CREATE TABLE IF NOT EXISTS files (
    repo_id INTEGER NOT NULL, commit_oid TEXT NOT NULL, path TEXT NOT NULL,
    blob_oid TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (repo_id, commit_oid, path),
    FOREIGN KEY (repo_id, commit_oid) REFERENCES commits (repo_id, oid) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS refs (
    repo_id INTEGER NOT NULL REFERENCES repos (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('branch', 'tag')), name TEXT NOT NULL,
    target TEXT NOT NULL, message TEXT, PRIMARY KEY (repo_id, kind, name));
CREATE INDEX IF NOT EXISTS files_by_blob ON files (blob_oid);
"""
_FILE_COLUMNS = "path, blob_oid, size, lfs_oid"


class Store:
    """The hub's state under `data_dir`: `hub.sqlite3` and `blobs/`."""

    def __init__(self, data_dir: Path, *, clock: Callable[[], str] = utc_now,
                 before_commit: Callable[[], None] | None = None,
                 webhooks: Sequence[Webhook] = (), public_url: str = "") -> None:
        """`before_commit` (tests only) runs in a commit's open transaction, before COMMIT.
        Each repo update queues a delivery to every one of `webhooks` (payload URLs on
        `public_url`) and calls `on_update` once it is durable."""
        self.data_dir = data_dir
        self.clock = clock
        self.before_commit = before_commit
        self.webhooks, self.public_url = list(webhooks), public_url.rstrip("/")
        self.on_update: Callable[[], None] = lambda: None
        data_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = data_dir / "hub.sqlite3"
        self.blobs = BlobStore(data_dir / "blobs")
        self.lfs = LfsStore(data_dir / "lfs")
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA + WEBHOOK_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(files)")}
            if "lfs_oid" not in columns:  # a data dir from before LFS
                db.execute("ALTER TABLE files ADD COLUMN lfs_oid TEXT")
            db.execute("CREATE INDEX IF NOT EXISTS files_by_lfs ON files (lfs_oid)")
        removed = self.collect_garbage()
        if removed:
            log.info("removed %d blobs no commit references", len(removed))
        removed = self.lfs.collect(self.referenced_lfs_objects())
        if removed:
            log.info("removed %d LFS objects no commit references", len(removed))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; `BEGIN IMMEDIATE` serialises writers across threads."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        if self.webhooks:
            self.on_update()

    def _updated(self, db: sqlite3.Connection, repo: Repo,
                 refs: list[tuple[str, str | None, str | None]]) -> None:
        """Queue the webhooks for an update of `refs` (full name, old sha, new sha)."""
        if not self.webhooks:
            return
        row = db.execute("SELECT target FROM refs WHERE repo_id = ? AND kind = 'branch' "
                         "AND name = ?", (repo.id, DEFAULT_BRANCH)).fetchone()
        record(db, self.webhooks, repo, self.public_url, row[0] if row else None, refs)

    # -- garbage collection -------------------------------------------------------------

    def referenced_blobs(self, candidates: Iterable[str] | None = None) -> set[str]:
        """The blob oids some commit references (among `candidates`, or all)."""
        with self._connect() as db:
            if candidates is None:
                return {r[0] for r in db.execute("SELECT DISTINCT blob_oid FROM files")}
            return {oid for oid in candidates if db.execute(
                "SELECT 1 FROM files WHERE blob_oid = ? LIMIT 1", (oid,)).fetchone()}

    def referenced_lfs_objects(self) -> set[str]:
        with self._connect() as db:
            return {r[0] for r in db.execute(
                "SELECT DISTINCT lfs_oid FROM files WHERE lfs_oid IS NOT NULL")}

    def collect_garbage(self, candidates: Iterable[str] | None = None) -> list[str]:
        """Remove blobs no commit references and no request in flight has pinned (all, or
        only `candidates`: a refused commit's). See hubship.hub.blobs."""
        return self.blobs.collect(self.referenced_blobs, candidates)

    # -- repos --------------------------------------------------------------------------

    def create_repo(self, namespace: str, name: str, *, private: bool) -> Repo:
        """Create the repo with an empty initial commit on `main`; Conflict if it exists."""
        now = self.clock()
        with self._write() as db:
            try:
                cur = db.execute(
                    "INSERT INTO repos (namespace, name, private, created_at) VALUES (?, ?, ?, ?)",
                    (namespace, name, int(private), now),
                )
            except sqlite3.IntegrityError:
                raise Conflict(
                    f"You already created this model repo: {namespace}/{name} "
                    "(pass exist_ok=True to reuse it)", body={"name": f"{namespace}/{name}"},
                ) from None
            repo = Repo(cur.lastrowid or 0, namespace, name, private, now)
            oid = self._insert_commit(db, repo, {}, None, "initial commit", "", now)
            db.execute(
                "INSERT INTO refs (repo_id, kind, name, target) VALUES (?, 'branch', ?, ?)",
                (repo.id, DEFAULT_BRANCH, oid),
            )
        return repo

    def delete_repo(self, repo: Repo) -> None:
        with self._write() as db:
            db.execute("DELETE FROM repos WHERE id = ?", (repo.id,))

    def set_private(self, repo: Repo, private: bool) -> None:
        with self._write() as db:
            db.execute("UPDATE repos SET private = ? WHERE id = ?", (int(private), repo.id))

    def get_repo(self, namespace: str, name: str) -> Repo:
        with self._connect() as db:
            row = db.execute(
                "SELECT id, namespace, name, private, created_at FROM repos "
                "WHERE namespace = ? AND name = ?", (namespace, name),
            ).fetchone()
        if row is None:
            raise RepoNotFound(f"{namespace}/{name}")
        return Repo(row[0], row[1], row[2], bool(row[3]), row[4])

    def list_repos(self) -> list[Repo]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, namespace, name, private, created_at FROM repos "
                "ORDER BY namespace, name"
            ).fetchall()
        return [Repo(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def head_info(self, repo: Repo) -> tuple[str, str]:
        """The head of main and its date."""
        with self._connect() as db:
            row = db.execute(
                "SELECT c.oid, c.created_at FROM refs AS r JOIN commits AS c "
                "ON c.repo_id = r.repo_id AND c.oid = r.target "
                "WHERE r.repo_id = ? AND r.kind = 'branch' AND r.name = ?",
                (repo.id, DEFAULT_BRANCH)).fetchone()
        return row[0], row[1]

    # -- revisions and history ----------------------------------------------------------

    def resolve(self, repo: Repo, revision: str) -> str:
        """Branch, tag (also as `refs/heads/x`, `refs/tags/x`) or full sha -> commit sha."""
        kinds: tuple[str, ...] = ("branch", "tag")
        name = revision
        if revision.startswith("refs/heads/"):
            kinds, name = ("branch",), revision.removeprefix("refs/heads/")
        elif revision.startswith("refs/tags/"):
            kinds, name = ("tag",), revision.removeprefix("refs/tags/")
        with self._connect() as db:
            for kind in kinds:
                row = db.execute(
                    "SELECT target FROM refs WHERE repo_id = ? AND kind = ? AND name = ?",
                    (repo.id, kind, name),
                ).fetchone()
                if row:
                    target: str = row[0]
                    return target
            if is_full_sha(revision) and db.execute(
                "SELECT 1 FROM commits WHERE repo_id = ? AND oid = ?", (repo.id, revision)
            ).fetchone():
                return revision
        raise RevisionNotFound(repo.repo_id, revision)

    def get_commit(self, repo: Repo, oid: str) -> Commit:
        with self._connect() as db:
            row = db.execute(
                "SELECT oid, parent, title, message, author, created_at FROM commits "
                "WHERE repo_id = ? AND oid = ?", (repo.id, oid),
            ).fetchone()
        if row is None:
            raise RevisionNotFound(repo.repo_id, oid)
        return Commit(*row)

    def history(self, repo: Repo, oid: str, *, skip: int = 0, limit: int = 50) -> list[Commit]:
        """Commits from `oid` back to the first one, newest first; `limit` after `skip`.

        One query: a recursive walk along the parent links that stops after `skip + limit`.
        """
        with self._connect() as db:
            rows = db.execute(
                "WITH RECURSIVE chain (oid, depth) AS ("
                "  SELECT ?, 0"
                "  UNION ALL"
                "  SELECT c.parent, chain.depth + 1 FROM chain JOIN commits AS c"
                "  ON c.repo_id = ? AND c.oid = chain.oid WHERE c.parent IS NOT NULL"
                "  LIMIT ?) "
                "SELECT c.oid, c.parent, c.title, c.message, c.author, c.created_at "
                "FROM chain JOIN commits AS c ON c.repo_id = ? AND c.oid = chain.oid "
                "ORDER BY chain.depth LIMIT ? OFFSET ?",
                (oid, repo.id, skip + limit, repo.id, limit, skip),
            ).fetchall()
        return [Commit(*row) for row in rows]

    def files(self, repo: Repo, commit_oid: str) -> list[FileEntry]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_FILE_COLUMNS} FROM files WHERE repo_id = ? AND commit_oid = ? "
                "ORDER BY path", (repo.id, commit_oid),
            ).fetchall()
        return [FileEntry(*row) for row in rows]

    def last_changes(self, repo: Repo, sha: str, paths: Sequence[str]) -> dict[str, Commit]:
        """For each file or folder path at `sha`, the newest commit (from `sha` back) that
        changed it: walks the history until every path is placed."""
        def state(files: dict[str, FileEntry], path: str) -> str | None:
            if path in files:
                return files[path].oid
            inside = [f for p, f in files.items() if p.startswith(path + "/")]
            return tree_oid(inside) if inside else None

        found: dict[str, Commit] = {}
        commit = self.get_commit(repo, sha)
        files = {f.path: f for f in self.files(repo, sha)}
        pending = set(paths)
        while pending:
            older = {f.path: f for f in self.files(repo, commit.parent)} if commit.parent else {}
            for path in [p for p in pending if state(files, p) != state(older, p)]:
                found[path] = commit
                pending.discard(path)
            if commit.parent is None:
                break
            commit, files = self.get_commit(repo, commit.parent), older
        return found

    def file(self, repo: Repo, commit_oid: str, path: str) -> FileEntry | None:
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_FILE_COLUMNS} FROM files "
                "WHERE repo_id = ? AND commit_oid = ? AND path = ?", (repo.id, commit_oid, path),
            ).fetchone()
        return FileEntry(*row) if row else None

    # -- refs ---------------------------------------------------------------------------

    def refs(self, repo: Repo) -> list[Ref]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT kind, name, target FROM refs WHERE repo_id = ? ORDER BY kind, name",
                (repo.id,),
            ).fetchall()
        return [Ref(*row) for row in rows]

    def create_ref(self, repo: Repo, kind: str, name: str, target: str,
                   *, message: str | None = None) -> None:
        """Create a branch or tag; Conflict if it exists, BadRequest if the other kind has the
        name (a branch `v1` next to the tag `v1` would make `MODEL_REVISION=v1` ambiguous)."""
        with self._write() as db:
            other = "tag" if kind == "branch" else "branch"
            if db.execute("SELECT 1 FROM refs WHERE repo_id = ? AND kind = ? AND name = ?",
                          (repo.id, other, name)).fetchone():
                raise BadRequest(
                    f"cannot create the {kind} {name!r} in {repo.repo_id}: a {other} of that "
                    f"name exists, and the revision {name!r} would be ambiguous; pick another "
                    "name"
                )
            try:
                db.execute(
                    "INSERT INTO refs (repo_id, kind, name, target, message) "
                    "VALUES (?, ?, ?, ?, ?)", (repo.id, kind, name, target, message),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"{kind} {name!r} already exists in {repo.repo_id}") from None
            self._updated(db, repo, [(_full_ref(kind, name), None, target)])

    def delete_ref(self, repo: Repo, kind: str, name: str) -> None:
        with self._write() as db:
            row = db.execute(
                "DELETE FROM refs WHERE repo_id = ? AND kind = ? AND name = ? RETURNING target",
                (repo.id, kind, name),
            ).fetchone()
            if row is None:
                raise RevisionNotFound(repo.repo_id, name)
            self._updated(db, repo, [(_full_ref(kind, name), row[0], None)])

    # -- commits ------------------------------------------------------------------------

    def commit(self, repo: Repo, branch: str, operations: Sequence[Operation], *, title: str,
               message: str = "", parent: str | None = None) -> Commit:
        """Apply `operations` on top of `branch` as one new commit, all or nothing.

        Every AddFile blob must already be in the blob store. With `parent`, the commit is
        refused (412) unless the branch still points at it.
        """
        now = self.clock()
        with self._write() as db:
            row = db.execute(
                "SELECT target FROM refs WHERE repo_id = ? AND kind = 'branch' AND name = ?",
                (repo.id, branch),
            ).fetchone()
            if row is None:
                raise RevisionNotFound(repo.repo_id, branch)
            head = row[0]
            if parent is not None and parent != head:
                raise PreconditionFailed(
                    f"A commit has happened since. Please refresh and try again: branch "
                    f"{branch!r} is at {head}, not at the parent commit {parent} you gave."
                )
            files = {
                r[0]: FileEntry(*r) for r in db.execute(
                    f"SELECT {_FILE_COLUMNS} FROM files WHERE repo_id = ? AND commit_oid = ?",
                    (repo.id, head),
                )
            }
            for op in operations:
                apply_operation(files, op, head)
            oid = self._insert_commit(db, repo, files, head, title, message, now)
            db.execute(
                "UPDATE refs SET target = ? "
                "WHERE repo_id = ? AND kind = 'branch' AND name = ? AND target = ?",
                (oid, repo.id, branch, head),
            )
            self._updated(db, repo, [(_full_ref("branch", branch), head, oid)])
            if self.before_commit is not None:
                self.before_commit()
        return Commit(oid, head, title, message, AUTHOR, now)

    def _insert_commit(self, db: sqlite3.Connection, repo: Repo, files: dict[str, FileEntry],
                       parent: str | None, title: str, message: str, now: str) -> str:
        """Store the commit and its files. An existing commit with this id is the same commit
        (e.g. made on two branches in the same millisecond): it is reused, as in git."""
        oid = commit_oid(files, parent, title, message, now)
        inserted = db.execute(
            "INSERT OR IGNORE INTO commits "
            "(repo_id, oid, parent, title, message, author, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (repo.id, oid, parent, title, message, AUTHOR, now),
        ).rowcount
        if inserted:
            db.executemany(
                "INSERT INTO files (repo_id, commit_oid, path, blob_oid, size, lfs_oid) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(repo.id, oid, f.path, f.oid, f.size, f.lfs) for f in files.values()],
            )
        return oid


def _full_ref(kind: str, name: str) -> str:
    return f"refs/{'heads' if kind == 'branch' else 'tags'}/{name}"
