"""Backend fixtures: a fresh repo per test holding the real v1 (`published`, from the session's
`real_releases` in tests/conftest.py), and a real uvicorn backend subprocess on a free
loopback port."""

from __future__ import annotations

import shutil
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hubship.services import Service, free_port
from tests.support.backend import wait_for_first_load
from tests.support.real_releases import RealReleases, replay

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def published(hf_api, repo_id: str, real_releases: RealReleases) -> dict[int, str]:
    """`repo_id` on the session hub holding the real v1 (replayed); returns {1: sha}.

    A repo per test: tests push v2 (`push_release`), move main back by hand, pin, reload."""
    return {1: replay(hf_api, repo_id, real_releases[1])}


@pytest.fixture
def push_release(hf_api, repo_id: str, real_releases: RealReleases) -> Callable[..., str]:
    """`push_release(2)`: the real release 2 on `repo_id` (or on `repo=`), as its publish would
    put it there; returns the new commit's sha."""
    def push(number: int, *, repo: str | None = None) -> str:
        return replay(hf_api, repo or repo_id, real_releases[number])

    return push


@pytest.fixture
def bundled(real_releases: RealReleases, tmp_path: Path) -> Callable[[int], Path]:
    """`bundled(2)`: a copy of the real release 2's files, as a backend bundles them in
    `backend/model_assets/` (manifest with its release number, models, holdout, card)."""
    def copy(number: int) -> Path:
        return Path(shutil.copytree(real_releases[number].files, tmp_path / f"assets-v{number}",
                                    ignore=shutil.ignore_patterns(".cache")))

    return copy


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
