"""Typed errors the client understands, and bad input refused whole with a clear message."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import (
    BadRequestError,
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)


def test_unknown_repo_revision_and_file_arrive_as_typed_errors(hf_api, repo_id, hf_cache,
                                                               hub_url):
    with pytest.raises(RepositoryNotFoundError):
        hf_api.model_info("nobody/nothing")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("nobody/nothing", "x.txt", cache_dir=hf_cache, endpoint=hub_url)

    hf_api.create_repo(repo_id)
    hf_api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id=repo_id)
    with pytest.raises(RevisionNotFoundError):
        hf_api.model_info(repo_id, revision="no-such-tag")
    with pytest.raises(RevisionNotFoundError):
        hf_api.list_repo_commits(repo_id, revision="no/such/branch")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo_id, "a.txt", revision="v404", cache_dir=hf_cache, endpoint=hub_url)
    with pytest.raises(RevisionNotFoundError):
        hf_api.delete_tag(repo_id, tag="v404")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "missing.txt", cache_dir=hf_cache, endpoint=hub_url)
    with pytest.raises(EntryNotFoundError):
        hf_api.delete_file("missing.txt", repo_id)
    with pytest.raises(EntryNotFoundError):
        list(hf_api.list_repo_tree(repo_id, path_in_repo="no-folder"))


def _ndjson(*items: object) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


HEADER = {"key": "header", "value": {"summary": "bad", "description": ""}}
GOOD_FILE = {"key": "file", "value": {"path": "ok.txt", "encoding": "base64",
                                      "content": base64.b64encode(b"fine").decode()}}


def _file(path: str, content: str | None = None) -> dict:
    content = content if content is not None else base64.b64encode(b"x").decode()
    return {"key": "file", "value": {"path": path, "encoding": "base64", "content": content}}


BAD_BODIES = {
    "not json": b"this is not json\n",
    "operation before header": _ndjson(GOOD_FILE, HEADER),
    "empty body": b"",
    "truncated json": _ndjson(HEADER)[:-10],
    "undecodable base64": _ndjson(HEADER, GOOD_FILE, _file("b.bin", "%%%not base64%%%")),
    "dot-dot path": _ndjson(HEADER, GOOD_FILE, _file("../escape.txt")),
    "nested dot-dot path": _ndjson(HEADER, _file("a/../../escape.txt")),
    "absolute path": _ndjson(HEADER, _file("/etc/passwd")),
    "backslash path": _ndjson(HEADER, _file("a\\b.txt")),
    "lfs pointer": _ndjson(HEADER, {"key": "lfsFile", "value": {
        "path": "big.bin", "algo": "sha256", "oid": "0" * 64, "size": 10}}),
    "unknown operation": _ndjson(HEADER, {"key": "renameFile", "value": {"path": "a"}}),
    "bad parent commit": _ndjson({"key": "header", "value": {
        "summary": "x", "parentCommit": "not-a-sha"}}),
    "empty summary": _ndjson({"key": "header", "value": {"summary": " "}}),
    "header value not an object": _ndjson({"key": "header", "value": ["x"]}),
    "summary a number": _ndjson({"key": "header", "value": {"summary": 5}}),
    "description a list": _ndjson({"key": "header", "value": {"summary": "x",
                                                              "description": ["d"]}}),
    "parent commit a number": _ndjson({"key": "header", "value": {"summary": "x",
                                                                  "parentCommit": 5}}),
    "operation value a list": _ndjson(HEADER, {"key": "file", "value": ["ok.txt"]}),
    "file path a number": _ndjson(HEADER, {"key": "file", "value": {
        "path": 5, "encoding": "base64", "content": ""}}),
    "file content a number": _ndjson(HEADER, _file("a.txt", 5)),
    "deleted folder path a list": _ndjson(HEADER, {"key": "deletedFolder",
                                                   "value": {"path": ["a"]}}),
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_malformed_commit_body_gets_400_and_changes_nothing(hf_api, repo_id, hub_url, body):
    hf_api.create_repo(repo_id)
    hf_api.upload_file(path_or_fileobj=b"keep", path_in_repo="keep.txt", repo_id=repo_id)
    refs_before = hf_api.list_repo_refs(repo_id)
    commits_before = hf_api.list_repo_commits(repo_id)

    response = httpx.post(f"{hub_url}/api/models/{repo_id}/commit/main", content=body,
                          headers={"Content-Type": "application/x-ndjson"})

    assert response.status_code == 400, response.text
    assert response.json()["error"]  # a message saying what is wrong
    assert hf_api.list_repo_refs(repo_id) == refs_before
    assert hf_api.list_repo_commits(repo_id) == commits_before
    assert hf_api.list_repo_files(repo_id) == ["keep.txt"]


def test_client_side_bad_input_is_a_bad_request(hf_api, repo_id, hub_url):
    with pytest.raises(BadRequestError, match="namespace"):
        hf_api.create_repo("api/reserved")
    hf_api.create_repo(repo_id)
    with pytest.raises(BadRequestError, match="tag name"):
        hf_api.create_tag(repo_id, tag="bad tag with spaces")
    response = httpx.post(f"{hub_url}/api/repos/create", content=b"{not json",
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "malformed" in response.json()["error"]
    response = httpx.post(f"{hub_url}/api/models/{repo_id}/preupload/main",
                          json={"files": [{"path": "../x", "sample": "", "size": 1}]})
    assert response.status_code == 400 and "inside the repo" in response.json()["error"]


def test_commit_to_a_missing_branch_or_repo(hf_api, repo_id, hub_url):
    hf_api.create_repo(repo_id)
    with pytest.raises(RevisionNotFoundError):
        hf_api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id,
                           revision="no-branch")
    with pytest.raises(RepositoryNotFoundError):
        hf_api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="nobody/none")


def test_oversized_body_is_refused_before_anything_is_written(start_hub, api_for):
    hub = start_hub(max_body_bytes=4096)
    api = api_for(hub.url)
    api.create_repo("limits/repo")
    with pytest.raises(HfHubHTTPError) as exc:
        api.upload_file(path_or_fileobj=b"x" * 10_000, path_in_repo="big.bin",
                        repo_id="limits/repo")
    assert exc.value.response.status_code == 400
    assert "limit of 4096 bytes" in str(exc.value)

    def chunks():  # no Content-Length: the limit is enforced while reading
        yield _ndjson(HEADER)
        for _ in range(10):
            yield b" " * 1000

    response = httpx.post(f"{hub.url}/api/models/limits/repo/commit/main", content=chunks())
    assert response.status_code == 400 and "limit" in response.json()["error"]
    assert api.list_repo_files("limits/repo") == []
    assert len(api.list_repo_commits("limits/repo")) == 1


# Each JSON route with a body of the wrong shape or a field of the wrong type: always a 400 with
# a message, never a 500. `{repo}` is replaced by a fresh repo holding one commit.
WRONG_TYPES = {
    "create: body a list": ("POST", "/api/repos/create", ["team", "x"]),
    "create: body null": ("POST", "/api/repos/create", None),
    "create: organization a number": ("POST", "/api/repos/create",
                                      {"organization": 5, "name": "x"}),
    "create: name a list": ("POST", "/api/repos/create", {"organization": "team", "name": ["x"]}),
    "create: private a string": ("POST", "/api/repos/create",
                                 {"organization": "team", "name": "x", "private": "false"}),
    "create: unknown visibility": ("POST", "/api/repos/create",
                                   {"organization": "team", "name": "x", "visibility": "secret"}),
    "create: type a number": ("POST", "/api/repos/create",
                              {"organization": "team", "name": "x", "type": 5}),
    "delete: organization a list": ("DELETE", "/api/repos/delete",
                                     {"organization": ["team"], "name": "x"}),
    "delete: body a string": ("DELETE", "/api/repos/delete", "team/x"),
    "settings: private a string": ("PUT", "/api/models/{repo}/settings", {"private": "no"}),
    "settings: visibility a boolean": ("PUT", "/api/models/{repo}/settings",
                                       {"visibility": True}),
    "settings: body a list": ("PUT", "/api/models/{repo}/settings", [True]),
    "branch: startingPoint a number": ("POST", "/api/models/{repo}/branch/dev",
                                       {"startingPoint": 5}),
    "branch: body a list": ("POST", "/api/models/{repo}/branch/dev", []),
    "tag: tag a number": ("POST", "/api/models/{repo}/tag/main", {"tag": 5}),
    "tag: message a list": ("POST", "/api/models/{repo}/tag/main",
                            {"tag": "v1", "message": ["x"]}),
    "tag: body a number": ("POST", "/api/models/{repo}/tag/main", 5),
    "preupload: files a number": ("POST", "/api/models/{repo}/preupload/main", {"files": 5}),
    "preupload: file not an object": ("POST", "/api/models/{repo}/preupload/main",
                                      {"files": ["a.txt"]}),
    "preupload: path a number": ("POST", "/api/models/{repo}/preupload/main",
                                 {"files": [{"path": 5, "sample": "", "size": 1}]}),
    "paths-info: paths a number": ("POST", "/api/models/{repo}/paths-info/main", {"paths": 5}),
    "paths-info: paths null": ("POST", "/api/models/{repo}/paths-info/main", {"paths": None}),
    "paths-info: a path a number": ("POST", "/api/models/{repo}/paths-info/main",
                                    {"paths": ["a.txt", 1]}),
    "paths-info: expand a string": ("POST", "/api/models/{repo}/paths-info/main",
                                    {"paths": [], "expand": "yes"}),
    "paths-info: body null": ("POST", "/api/models/{repo}/paths-info/main", None),
    "paths-info: body a list": ("POST", "/api/models/{repo}/paths-info/main", ["a.txt"]),
}


@pytest.mark.parametrize("case", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_a_wrong_type_in_a_json_body_gets_400_and_changes_nothing(hf_api, repo_id, hub_url,
                                                                  case):
    method, path, body = case
    hf_api.create_repo(repo_id)
    hf_api.upload_file(path_or_fileobj=b"keep", path_in_repo="keep.txt", repo_id=repo_id)
    refs_before = hf_api.list_repo_refs(repo_id)

    response = httpx.request(method, hub_url + path.format(repo=repo_id),
                             content=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json"})

    assert response.status_code == 400, response.text
    assert response.json()["error"]
    assert not hf_api.repo_exists("team/x")  # the repo the create cases name
    assert hf_api.list_repo_refs(repo_id) == refs_before
    assert hf_api.model_info(repo_id).private is False


def test_paths_info_as_a_form_checks_expand(hf_api, repo_id, hub_url):
    hf_api.create_repo(repo_id)
    hf_api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id=repo_id)
    url = f"{hub_url}/api/models/{repo_id}/paths-info/main"
    assert httpx.post(url, data={"paths": ["a.txt"], "expand": "maybe"}).status_code == 400
    found = httpx.post(url, data={"paths": ["a.txt", "b.txt"], "expand": False}).json()
    assert [f["path"] for f in found] == ["a.txt"]
    found = httpx.post(url, json={"paths": ["a.txt"], "expand": True}).json()
    assert [f["path"] for f in found] == ["a.txt"]
