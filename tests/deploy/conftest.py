from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.standin import StandIn, start_standin


@pytest.fixture(autouse=True)
def _no_deploy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RAILWAY_SERVICE_ID", "RAILWAY_ENVIRONMENT_ID", "RAILWAY_API_URL",
                 "HUBSHIP_RELEASE_SHA", "HUBSHIP_DEPLOY_COMMIT", "HUBSHIP_VERIFY_TIMEOUT",
                 "HUBSHIP_VERIFY_REPLICAS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A real HTTP server on a free loopback port; set `.responder`, read `.requests`."""
    state, server = start_standin()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A real httpx client with a short timeout, so the timeout tests finish quickly."""
    with httpx.Client(timeout=httpx.Timeout(0.5)) as http:
        yield http
