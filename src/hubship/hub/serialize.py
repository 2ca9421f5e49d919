"""The JSON shapes `huggingface_hub` parses, built from storage records."""

from __future__ import annotations

from typing import Any

from hubship.hub.storage import Commit, FileEntry, Ref, Repo


def repo_info(repo: Repo, sha: str, files: list[FileEntry], last_modified: str) -> dict[str, Any]:
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
        "siblings": [{"rfilename": f.path, "size": f.size, "blobId": f.oid} for f in files],
    }


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
    return {"type": "file", "oid": entry.oid, "size": entry.size, "path": entry.path}


def folder_entry(path: str, oid: str) -> dict[str, Any]:
    return {"type": "directory", "oid": oid, "size": 0, "path": path}
