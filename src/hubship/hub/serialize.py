"""The JSON shapes `huggingface_hub` parses, built from storage records."""

from __future__ import annotations

from typing import Any

from hubship.hub.records import Commit, FileEntry, Ref, Repo, lfs_pointer


def repo_summary(repo: Repo, sha: str, last_modified: str) -> dict[str, Any]:
    """A repo as `list_models` shows it."""
    return {
        "_id": f"{repo.id:024x}",
        "id": repo.repo_id,
        "modelId": repo.repo_id,
        "author": repo.namespace,
        "sha": sha,
        "private": repo.private,
        "disabled": False,
        "gated": False,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "createdAt": repo.created_at,
        "lastModified": last_modified,
    }


def repo_info(repo: Repo, sha: str, files: list[FileEntry], last_modified: str) -> dict[str, Any]:
    """A repo as `model_info` shows it: the summary and its files."""
    return {**repo_summary(repo, sha, last_modified), "siblings": [_sibling(f) for f in files]}


def _sibling(entry: FileEntry) -> dict[str, Any]:
    sibling: dict[str, Any] = {"rfilename": entry.path, "size": entry.size, "blobId": entry.oid}
    if entry.lfs:  # model_info(files_metadata=True) reads `sha256` here (`oid` in trees)
        sibling["lfs"] = {"sha256": entry.lfs, "size": entry.size,
                          "pointerSize": len(lfs_pointer(entry.lfs, entry.size))}
    return sibling


def ref_entry(ref: Ref) -> dict[str, str]:
    prefix = "refs/heads/" if ref.kind == "branch" else "refs/tags/"
    return {"name": ref.name, "ref": prefix + ref.name, "targetCommit": ref.target}


def commit_entry(commit: Commit) -> dict[str, Any]:
    return {
        "id": commit.oid,
        "title": commit.title,
        "message": commit.message,
        "date": commit.created_at,
        "authors": [{"user": commit.author}],
    }


def file_entry(entry: FileEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "file", "oid": entry.oid, "size": entry.size,
                            "path": entry.path}
    if entry.lfs:
        item["lfs"] = {"oid": entry.lfs, "size": entry.size,
                       "pointerSize": len(lfs_pointer(entry.lfs, entry.size))}
    return item


def folder_entry(path: str, oid: str) -> dict[str, Any]:
    return {"type": "directory", "oid": oid, "size": 0, "path": path}


def last_commit(commit: Commit) -> dict[str, str]:
    """`lastCommit` of a tree or paths-info entry (`expand=True`)."""
    return {"id": commit.oid, "title": commit.title, "date": commit.created_at}
