"""Fixtures for the browser tests: a built frontend, two releases on the session's local hub,
a real backend serving them, the `hubship frontend` server in front of it, and Debian's
headless Chromium driven by Playwright."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubship.frontend_server import ensure_built
from hubship.services import free_port
from tests.support.frontend_services import backend_service, frontend_service
from tests.support.release_builder import FRONTEND_MODELS, build_release, publish_release

ROOT = Path(__file__).resolve().parents[2]
# Release N fits with this flexibility: release 2 fits closer, so it beats release 1.
RELEASE_FLEXIBILITY = {1: 0.002, 2: 1.0}


@pytest.fixture(scope="session")
def frontend_dist() -> Path:
    """frontend/dist, built with npm on first use (and rebuilt when the sources changed)."""
    return ensure_built(ROOT / "frontend")


@pytest.fixture(scope="session")
def published(hub_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Releases v1 and v2 on a fresh repo of the session hub, published through the real
    publisher (v2 passes its gate: better on both models): {"repo_id", "shas"}."""
    from huggingface_hub import HfApi

    repo_id = f"tests/frontend-{uuid.uuid4().hex[:8]}"
    api = HfApi(endpoint=hub_url, token="test-token")
    work = tmp_path_factory.mktemp("releases")
    shas = []
    for release, flexibility in RELEASE_FLEXIBILITY.items():
        release_dir = work / f"release-{release}"
        build_release(release_dir, FRONTEND_MODELS, release=release, flexibility=flexibility)
        shas.append(publish_release(api, repo_id, release_dir, cache_dir=work / "hf-cache"))
    return {"repo_id": repo_id, "shas": shas}


@pytest.fixture(scope="session")
def backend_url(hub_url: str, published: dict[str, object],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("backend")
    service = backend_service(hub_url, str(published["repo_id"]), home, port=free_port())
    service.start(timeout=90)
    yield service.url
    service.stop()


@pytest.fixture(scope="session")
def not_ready_backend_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real backend whose Hub is a dead port, with no cache nor bundled release: it stays up
    (/health) but never ready (/ready 503 with the reason). No test changes it."""
    service = backend_service(f"http://127.0.0.1:{free_port()}", "tests/nowhere",
                              tmp_path_factory.mktemp("not-ready-backend"), port=free_port(),
                              wait_for="/health")
    service.start(timeout=90)
    yield service.url
    service.stop()


@pytest.fixture(scope="session")
def frontend_url(frontend_dist: Path, backend_url: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    service = frontend_service(frontend_dist, backend_url,
                               tmp_path_factory.mktemp("frontend") / "frontend.log")
    service.start()
    yield service.url
    service.stop()


@pytest.fixture
def page(browser):
    """A fresh browser page; console errors are collected in `page.console_errors`."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    new_page = context.new_page()
    new_page.set_default_timeout(15_000)
    errors: list[str] = []
    new_page.on("pageerror", lambda exc: errors.append(str(exc)))
    new_page.console_errors = errors
    yield new_page
    context.close()
