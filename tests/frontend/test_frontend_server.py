"""The frontend server without a browser: what it forwards to the backend, what it serves,
and when it (re)builds. The backend here is an `httpx.MockTransport` recording each request."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from hubship.errors import HubshipError
from hubship.frontend_server import SECURITY_HEADERS, create_frontend_app, ensure_built

ROOT = Path(__file__).resolve().parents[2]
BACKEND = "http://backend.test:9000"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>hubship</title>")
    (folder / "assets" / "app.js").write_text("console.log('hi')")
    return folder


def serve(dist: Path, handler) -> TestClient:
    app = create_frontend_app(dist, BACKEND, transport=httpx.MockTransport(handler))
    return TestClient(app)


def test_api_requests_reach_the_backend_without_the_api_prefix(dist: Path) -> None:
    seen: list[httpx.Request] = []

    def backend(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(422, json={"detail": [{"loc": ["body", "x"], "msg": "bad"}]},
                              headers={"x-request-id": "abc"})

    with serve(dist, backend) as client:
        answer = client.post("/api/models/species/predict?explain=1", json={"x": 1},
                             headers={"Authorization": "Bearer t0ken"})
        root = client.get("/api")

    forwarded = seen[0]
    assert forwarded.method == "POST"
    assert str(forwarded.url) == f"{BACKEND}/models/species/predict?explain=1"
    assert json.loads(forwarded.content) == {"x": 1}
    assert forwarded.headers["authorization"] == "Bearer t0ken"
    assert forwarded.headers["content-type"] == "application/json"
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"] == "bad"
    assert answer.headers["x-request-id"] == "abc"
    assert str(seen[1].url) == f"{BACKEND}/"
    assert root.status_code == 422


def test_an_encoded_slash_cannot_send_the_request_to_another_host(dist: Path) -> None:
    # "/api%2F@evil.com/x" routes as "/api/@evil.com/x"; glued raw onto the backend URL it
    # would read "http://backend.test:9000%2F@evil.com/x": host evil.com, with our headers.
    seen: list[httpx.Request] = []

    def backend(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    with serve(dist, backend) as client:
        smuggled = client.get("/api%2F@evil.com/x", headers={"Authorization": "Bearer t0ken",
                                                             "Cookie": "session=s3cret"})
        slashed = client.get("/api%2Fready")
        inner = client.get("/api/models/a%2Fb%40c")

    assert smuggled.status_code == 200
    assert [(r.url.host, r.url.port) for r in seen] == [("backend.test", 9000)] * 3
    assert seen[0].url.raw_path == b"/%40evil.com/x"
    assert slashed.status_code == 200 and seen[1].url.raw_path == b"/ready"
    assert inner.status_code == 200 and seen[2].url.raw_path == b"/models/a/b%40c"


def test_dot_segments_are_refused_not_forwarded(dist: Path) -> None:
    seen: list[httpx.Request] = []

    def backend(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    with serve(dist, backend) as client:
        answer = client.get("/api/%2E%2E/admin/reload")

    assert answer.status_code == 400
    assert "'..'" in answer.json()["detail"]
    assert seen == []


def test_a_backend_that_does_not_answer_gives_a_clear_502(dist: Path) -> None:
    def backend(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with serve(dist, backend) as client:
        answer = client.get("/api/ready")

    assert answer.status_code == 502
    detail = answer.json()["detail"]
    assert BACKEND in detail and "did not answer" in detail and "is it running" in detail


def test_the_page_is_served_with_its_security_headers(dist: Path) -> None:
    with serve(dist, lambda request: httpx.Response(500)) as client:
        index = client.get("/")
        asset = client.get("/assets/app.js")
        deep_link = client.get("/releases/v2")

    assert index.status_code == 200 and "<title>hubship</title>" in index.text
    for name, value in SECURITY_HEADERS.items():
        assert index.headers[name] == value
    assert asset.status_code == 200 and "console.log" in asset.text
    assert deep_link.status_code == 200 and "<title>hubship</title>" in deep_link.text


def test_vercel_config_matches_the_local_server() -> None:
    config = json.loads((ROOT / "frontend" / "vercel.json").read_text())
    assert config["outputDirectory"] == "dist"
    assert config["buildCommand"] == "npm run build"
    [rewrite] = config["rewrites"]
    assert rewrite["source"] == "/api/:path*"
    assert rewrite["destination"].endswith("/:path*")  # the /api prefix is stripped
    [site] = [h for h in config["headers"] if h["source"] == "/(.*)"]
    assert {h["key"]: h["value"] for h in site["headers"]} == SECURITY_HEADERS


def test_a_missing_build_is_named_with_the_command_that_makes_it(tmp_path: Path) -> None:
    with pytest.raises(HubshipError) as caught:
        create_frontend_app(tmp_path / "dist", BACKEND)
    assert "npm run build" in caught.value.hint


def _frontend_sources(folder: Path) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "main.ts").write_text("export {};")
    (folder / "package.json").write_text("{}")
    (folder / "dist").mkdir()
    (folder / "dist" / "index.html").write_text("<!doctype html>")
    return folder


def test_ensure_built_keeps_a_fresh_build(tmp_path: Path, monkeypatch) -> None:
    frontend = _frontend_sources(tmp_path / "frontend")
    later = time.time() + 10
    os.utime(frontend / "dist" / "index.html", (later, later))
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # any npm call would fail

    assert ensure_built(frontend) == frontend / "dist"


def test_ensure_built_rebuilds_when_a_source_is_newer(tmp_path: Path, monkeypatch) -> None:
    frontend = _frontend_sources(tmp_path / "frontend")
    earlier = time.time() - 10
    os.utime(frontend / "dist" / "index.html", (earlier, earlier))
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))

    with pytest.raises(HubshipError, match="npm is not installed") as caught:
        ensure_built(frontend)
    assert "Node.js" in caught.value.hint
