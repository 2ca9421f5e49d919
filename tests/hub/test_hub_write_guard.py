"""Writes are judged on their headers before a byte of the body is read: the token, the body
limit (declared or chunked), and no write from a web page (foreign Origin, CORS-simple type)."""

from __future__ import annotations

import base64
import json
import socket
from urllib.parse import urlsplit

import httpx

REPO = "team/models"
# Every write route, as (method, path); `{repo}` is an existing repo.
WRITE_ROUTES = [
    ("POST", "/api/repos/create"),
    ("DELETE", "/api/repos/delete"),
    ("PUT", "/api/models/{repo}/settings"),
    ("POST", "/api/models/{repo}/preupload/main"),
    ("POST", "/api/models/{repo}/commit/main"),
    ("POST", "/api/models/{repo}/branch/dev"),
    ("DELETE", "/api/models/{repo}/branch/dev"),
    ("POST", "/api/models/{repo}/tag/main"),
    ("DELETE", "/api/models/{repo}/tag/v1"),
    ("POST", "/api/validate-yaml"),
]
# The routes that read a body (deleting a branch or a tag ignores it).
BODY_ROUTES = [(m, p) for m, p in WRITE_ROUTES if not (m == "DELETE" and "/api/models/" in p)]


def _raw_request(url: str, method: str, path: str, headers: dict[str, str],
                 chunks, *, timeout: float = 10) -> tuple[int, bytes]:
    """Send a chunked request, a chunk at a time, stopping early if the server answers or
    closes; return the status and the first bytes of the answer."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    with sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTransfer-Encoding: chunked\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        sock.setblocking(False)
        for chunk in chunks:
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break  # the answer is already there
            except BlockingIOError:
                pass
            except ConnectionError:
                break
            sock.setblocking(True)
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.setblocking(False)
        sock.setblocking(True)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    return int(answer.split(b" ", 2)[1]), answer


def _endless(first: bytes = b'{"name": "'):
    """A body that never ends: the test fails on a timeout unless the hub answers first."""
    yield first
    while True:
        yield b"x" * 65536


def test_the_token_is_checked_before_the_body_is_read_on_every_write_route(start_hub, api_for):
    hub = start_hub(token="s3cret-token")
    api_for(hub.url, "s3cret-token").create_repo(REPO)
    for method, path in WRITE_ROUTES:
        # the body never ends: without an answer before it, this times out
        status, answer = _raw_request(hub.url, method, path.format(repo=REPO),
                                      {"Content-Type": "application/json"}, _endless())
        assert status == 401, (path, answer)
        assert b"token" in answer, (path, answer)


def test_a_chunked_body_counts_against_the_limit_on_every_route(start_hub, api_for):
    hub = start_hub(max_body_bytes=65536)
    api_for(hub.url).create_repo(REPO)
    for method, path in BODY_ROUTES:
        status, answer = _raw_request(hub.url, method, path.format(repo=REPO),
                                      {"Content-Type": "application/json"}, _endless())
        assert status == 400, (path, answer)
        assert b"limit of 65536 bytes" in answer, (path, answer)
    api = api_for(hub.url)
    assert api.list_repo_files(REPO) == [] and len(api.list_repo_commits(REPO)) == 1


def test_json_routes_take_at_most_4_mib_whatever_the_body_limit(hub_url, hf_api, repo_id):
    hf_api.create_repo(repo_id)
    big = {"content": "x" * (5 * 1024 * 1024), "repoType": "model"}
    for path in ("/api/validate-yaml", f"/api/models/{repo_id}/preupload/main"):
        response = httpx.post(hub_url + path, json=big)
        assert response.status_code == 400, path
        assert "over 4194304 bytes" in response.json()["error"]
    card = {"content": "---\nlicense: mit\n---\n# A card\n", "repoType": "model"}
    assert httpx.post(f"{hub_url}/api/validate-yaml", json=card).json() == {
        "errors": [], "warnings": []}


def test_validate_yaml_needs_the_token_when_the_hub_has_one(start_hub, api_for, tmp_path):
    hub = start_hub(token="s3cret-token")
    card = {"content": "---\nlicense: mit\n---\n", "repoType": "model"}
    assert httpx.post(f"{hub.url}/api/validate-yaml", json=card).status_code == 401
    authorized = httpx.post(f"{hub.url}/api/validate-yaml", json=card,
                            headers={"Authorization": "Bearer s3cret-token"})
    assert authorized.status_code == 200
    owner = api_for(hub.url, "s3cret-token")  # the client's own card check still passes
    owner.create_repo(REPO)
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n# Card\n")
    owner.upload_file(path_or_fileobj=tmp_path / "README.md", path_in_repo="README.md",
                      repo_id=REPO)
    assert owner.list_repo_files(REPO) == ["README.md"]


def _commit_body(path: str = "evil.txt") -> bytes:
    lines = [{"key": "header", "value": {"summary": "from a web page"}},
             {"key": "file", "value": {"path": path, "encoding": "base64",
                                       "content": base64.b64encode(b"evil").decode()}}]
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def test_a_tokenless_hub_refuses_writes_a_web_page_could_send(start_hub, api_for):
    hub = start_hub()
    api = api_for(hub.url, False)
    api.create_repo(REPO)
    commit_url = f"{hub.url}/api/models/{REPO}/commit/main"
    own_origin = hub.url
    refused = {
        "text/plain cross-origin commit": ({"Content-Type": "text/plain;charset=UTF-8",
                                            "Origin": "http://evil.example"}, 403),
        "text/plain commit, no Origin": ({"Content-Type": "text/plain"}, 415),
        "form commit": ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        "multipart commit": ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
        "ndjson from a foreign Origin": ({"Content-Type": "application/x-ndjson",
                                          "Origin": "http://evil.example"}, 403),
        "ndjson from an opaque Origin": ({"Content-Type": "application/x-ndjson",
                                          "Origin": "null"}, 403),
        "ndjson through DNS rebinding": ({"Content-Type": "application/x-ndjson",
                                          "Host": "evil.example",
                                          "Origin": "http://evil.example"}, 403),
    }
    for case, (headers, status) in refused.items():
        response = httpx.post(commit_url, content=_commit_body(), headers=headers)
        assert response.status_code == status, case
        assert response.json()["error"], case
    create = httpx.post(f"{hub.url}/api/repos/create",
                        content=b'{"organization": "team", "name": "x"}',
                        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
    assert create.status_code in (403, 415)
    assert api.list_repo_files(REPO) == []
    assert not api.repo_exists("team/x")

    # what the client sends (no Origin), and a page of the hub's own origin, are writes
    own = httpx.post(commit_url, content=_commit_body("own.txt"),
                     headers={"Content-Type": "application/x-ndjson", "Origin": own_origin})
    assert own.status_code == 200, own.text
    api.upload_file(path_or_fileobj=b"ok", path_in_repo="client.txt", repo_id=REPO)
    assert api.list_repo_files(REPO) == ["client.txt", "own.txt"]
    # reads stay open to pages: the paths-info form is a read
    info = httpx.post(f"{hub.url}/api/models/{REPO}/paths-info/main",
                      data={"paths": ["own.txt"]}, headers={"Origin": "http://evil.example"})
    assert [item["path"] for item in info.json()] == ["own.txt"]
