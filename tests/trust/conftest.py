"""Trust fixtures: key pairs, and releases the real publisher signed on the session's local
hub (the real training output is `trained`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from hubship.publish import PublishResult, publish
from hubship.registry import Registry
from hubship.release import Trust
from hubship.signing import SigningKey
from tests.support.trust import key_files


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[SigningKey, Path, Path]:
    """The project's key pair: (key, private key file, public key file)."""
    return key_files(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def foreign_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[SigningKey, Path, Path]:
    """Someone else's key pair (an attacker's, or a rotated-away one)."""
    return key_files(tmp_path_factory.mktemp("foreign-keys"), "foreign")


@pytest.fixture
def registry(hf_api, repo_id: str, hf_cache: Path) -> Registry:
    # public, so the tests' backends read it without a token (the publisher makes it private)
    hf_api.create_repo(repo_id, exist_ok=True)
    return Registry(hf_api, repo_id, cache_dir=hf_cache, retries=1, backoff=0.05)


@pytest.fixture
def publish_signed(registry: Registry, keys) -> Callable[..., PublishResult]:
    """Publish a release folder with the real publisher, signed with `keys` (or `key`)."""

    def run(release_dir: Path, *, key: SigningKey | None = None, force: bool = False
            ) -> PublishResult:
        key = key or keys[0]
        return publish(registry, release_dir, force=force, console=Console(quiet=True),
                       trust=Trust(key.public), signing_key=key)

    return run
