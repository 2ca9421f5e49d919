"""Fixtures for the hub tests: a sample release folder, and extra hubs of our own (for tests
that stop, restart, kill or configure a server) next to the session-wide one."""

from __future__ import annotations

import filecmp
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hubship.services import Service, free_port

README = """---
license: apache-2.0
library_name: sklearn
tags:
- tabular-classification
---
# Penguins

A model card with YAML front matter.
"""


@pytest.fixture
def sample_folder(tmp_path: Path) -> Path:
    """A folder like a release: a 2 MB binary, JSON, a README with YAML front matter."""
    folder = tmp_path / "release"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "model.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    (folder / "manifest.json").write_text(json.dumps({"format": "hubship/1", "release": 1}))
    (folder / "README.md").write_text(README)
    (folder / "plots" / "deep").mkdir(parents=True)
    (folder / "plots" / "deep" / "curve.txt").write_text("0.1 0.2 0.3\n")
    return folder


def _assert_same_files(got: Path, expected: Path) -> None:
    def listing(root: Path) -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
                      and ".cache" not in p.parts)

    assert listing(got) == listing(expected)
    for rel in listing(expected):
        assert filecmp.cmp(got / rel, expected / rel, shallow=False), rel


@pytest.fixture
def assert_same_files() -> Callable[[Path, Path], None]:
    """Check that two folders hold the same file paths with byte-identical contents."""
    return _assert_same_files


@pytest.fixture
def start_hub(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start `hubship hub` subprocesses of our own; all are stopped at the end of the test."""
    started: list[Service] = []

    def start(data_dir: Path | None = None, *, port: int | None = None, token: str | None = None,
              max_body_bytes: int | None = None, env: dict[str, str] | None = None,
              args: list[str] | None = None) -> Service:
        data_dir = data_dir or tmp_path / "hub-data"
        port = port or free_port()
        argv = [sys.executable, "-m", "hubship", "hub", "--port", str(port),
                "--data-dir", str(data_dir), *(args or [])]
        if token:
            argv += ["--token", token]
        if max_body_bytes:
            argv += ["--max-body-bytes", str(max_body_bytes)]
        url = f"http://127.0.0.1:{port}"
        service = Service("hub", argv, url=url, health_url=f"{url}/api/health", env=env,
                          log_path=tmp_path / f"hub-{port}.log")
        started.append(service.start())
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def api_for() -> Callable[..., object]:
    """A real HfApi on another hub (`token=False`: send no token at all)."""
    from huggingface_hub import HfApi

    def make(url: str, token: str | bool | None = "test-token") -> HfApi:
        return HfApi(endpoint=url, token=token)

    return make
