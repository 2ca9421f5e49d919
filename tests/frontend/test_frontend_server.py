"""The frontend server without a browser: what it forwards to the backend, what it serves,
and when it (re)builds. The backend here is an `httpx.MockTransport` recording each request,
except where the headers two real servers add are checked."""

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
from tests.support.frontend_services import frontend_service

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


def test_the_hub_pages_and_the_frontend_share_one_stylesheet() -> None:
    frontend_copy = (ROOT / "frontend" / "src" / "site.css").read_text()
    hub_copy = (ROOT / "src" / "hubship" / "hub" / "site.css").read_text()
    assert frontend_copy == hub_copy, "edit one site.css, then copy it over the other"
    assert '@import "./site.css";' in (ROOT / "frontend" / "src" / "style.css").read_text()


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


def test_every_answer_carries_the_security_headers(dist: Path) -> None:
    def backend(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/down":
            raise httpx.ConnectError("connection refused", request=request)
        # a backend's own weaker header is replaced, as Vercel's headers apply to /api too
        return httpx.Response(200, json={"ok": True}, headers={"X-Frame-Options": "SAMEORIGIN"})

    with serve(dist, backend) as client:
        answers = {
            "page": client.get("/"),
            "api": client.get("/api/ready"),
            "api error": client.get("/api/down"),
            "refused path": client.get("/api/%2E%2E/admin/reload"),
            "too large": client.post("/api/models/x/predict", content=b"x" * 2_000_000),
        }
    assert [a.status_code for a in answers.values()] == [200, 200, 502, 400, 413]
    for what, answer in answers.items():
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get_list(name) == [value], (what, name)


def test_bodies_over_the_backends_limit_are_refused_before_forwarding(dist: Path) -> None:
    seen: list[httpx.Request] = []

    def backend(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    app = create_frontend_app(dist, BACKEND, max_body_bytes=100,
                              transport=httpx.MockTransport(backend))
    with TestClient(app) as client:
        declared = client.post("/api/models/x/predict", content=b"x" * 101)
        chunked = client.post("/api/models/x/predict", content=iter([b"x" * 60, b"x" * 60]))
        fits = client.post("/api/models/x/predict", content=b"x" * 100)
    assert declared.status_code == chunked.status_code == 413
    assert "larger than 100 bytes" in declared.json()["detail"]
    assert "HUBSHIP_MAX_BODY_BYTES" in declared.json()["detail"]
    assert fits.status_code == 200 and len(seen) == 1


def test_connection_specific_headers_are_dropped_both_ways(dist: Path) -> None:
    seen: list[httpx.Request] = []

    def backend(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True}, headers=[
            ("Connection", "x-backend-hop"), ("X-Backend-Hop", "internal"),
            ("Keep-Alive", "timeout=5"), ("Proxy-Authenticate", "Basic"),
            ("Upgrade", "h2c"), ("X-Request-Id", "abc")])

    with serve(dist, backend) as client:
        answer = client.get("/api/ready", headers={
            "Connection": "x-client-hop, keep-alive", "X-Client-Hop": "secret",
            "Keep-Alive": "timeout=5", "TE": "trailers", "Proxy-Authorization": "Basic eDp5",
            "Proxy-Connection": "keep-alive", "X-Kept": "yes"})

    forwarded = {name.lower() for name in seen[0].headers}
    for name in ("x-client-hop", "keep-alive", "te", "proxy-authorization", "proxy-connection"):
        assert name not in forwarded, name
    # the proxy's own connection to the backend has its own Connection header (httpx's)
    assert "x-client-hop" not in seen[0].headers.get("connection", "")
    assert seen[0].headers["x-kept"] == "yes"
    returned = {name.lower() for name in answer.headers}
    for name in ("x-backend-hop", "keep-alive", "proxy-authenticate", "upgrade"):
        assert name not in returned, name
    assert answer.headers["x-request-id"] == "abc"


@pytest.mark.parametrize(("backend_url", "location", "rewritten"), [
    (BACKEND, f"{BACKEND}/docs/", "/api/docs/"),
    (BACKEND, "/models/species?x=1", "/api/models/species?x=1"),
    (BACKEND, "docs", "/api/docs"),  # relative to the answered URL, /ready
    (f"{BACKEND}/v1", f"{BACKEND}/v1/docs", "/api/docs"),
    (f"{BACKEND}/v1", "/elsewhere", "/elsewhere"),  # not under the backend URL: as it was
    (BACKEND, "https://hub.example/login", "https://hub.example/login"),
])
def test_a_redirect_to_the_backend_points_at_this_servers_api(
        dist: Path, backend_url: str, location: str, rewritten: str) -> None:
    def backend(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"Location": location})

    app = create_frontend_app(dist, backend_url, transport=httpx.MockTransport(backend))
    with TestClient(app, follow_redirects=False) as client:
        answer = client.get("/api/ready")
    assert answer.status_code == 307 and answer.headers["location"] == rewritten


def test_date_and_server_are_never_doubled(dist: Path, not_ready_backend_url: str,
                                          tmp_path: Path) -> None:
    # The real processes: `hubship frontend` (uvicorn) in front of a real backend (not ready:
    # its Hub is a dead port; /health answers all the same).
    with frontend_service(dist, not_ready_backend_url, tmp_path / "frontend.log") as frontend:
        direct = httpx.get(f"{not_ready_backend_url}/health")
        forwarded = httpx.get(f"{frontend.url}/api/health")
        page = httpx.get(f"{frontend.url}/")
    assert forwarded.status_code == page.status_code == 200
    assert forwarded.headers.get_list("server") == direct.headers.get_list("server")
    assert len(forwarded.headers.get_list("date")) == 1
    assert len(page.headers.get_list("date")) == 1 and page.headers.get_list("server") == []
    assert forwarded.headers["x-frame-options"] == page.headers["x-frame-options"] == "DENY"
