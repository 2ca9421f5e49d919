"""Backend fixtures: releases v1 and v2 built with `hubship.bundle.Bundle`, uploaded with the
real client, and a real uvicorn backend subprocess on a free loopback port."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backend_support import wait_for_first_load

from hubship.services import Service, free_port
from release_builder import BACKEND_MODELS, build_release, upload_release

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def release_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Release directories v1 and v2 (different fits, so different files and shas)."""
    base = tmp_path_factory.mktemp("releases")
    dirs = {}
    for number in (1, 2):
        dirs[number] = base / f"v{number}"
        build_release(dirs[number], BACKEND_MODELS, release=number, flexibility=number)
    return dirs


@pytest.fixture
def published(hf_api, repo_id: str, release_dirs: dict[int, Path]) -> dict[int, str]:
    """`repo_id` on the session hub with v1 published; returns {release: sha}.

    Raw uploads, not `hubship publish`: these tests check the commit title ("release v2"),
    move main back by hand and publish releases in an order the gate and numbering of the
    real publisher would not allow."""
    return {1: upload_release(hf_api, repo_id, release_dirs[1])}


@pytest.fixture
def start_backend(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start `uvicorn backend.main:app` with the given environment; returns once its first
    load has finished (ready or not); stopped at teardown."""
    started: list[Service] = []

    def start(env: dict[str, str], *, name: str = "backend") -> Service:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        service = Service(
            name, [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
                   "--port", str(port), "--no-access-log"],
            url=url, health_url=f"{url}/health", cwd=ROOT,
            env={"HF_HUB_DISABLE_TELEMETRY": "1", "HUBSHIP_ASSETS_DIR": str(tmp_path / "none"),
                 **env},
            log_path=tmp_path / f"{name}-{len(started)}.log",
        )
        started.append(service)
        service.start(timeout=60)
        wait_for_first_load(url)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def silent_hub() -> Iterator[str]:
    """The URL of a "Hub" that accepts connections and never answers (nor closes them)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()
