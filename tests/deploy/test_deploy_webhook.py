"""The webhook trigger (`POST /admin/reload`) against a stand-in backend."""

from __future__ import annotations

import pytest
from standin import FAST_RETRY, Reply, Request, StandIn, assert_no_secret

from hubship.config import Settings
from hubship.deploy import trigger
from hubship.errors import ConfigError, DeployError

ADMIN = "admin-token-3c9d1e"
OLD, NEW = "a" * 40, "b" * 40


def webhook(standin: StandIn, token: str = ADMIN) -> Settings:
    return Settings(deploy_target="webhook", backend_url=standin.url + "/", admin_token=token)


def backend_like(request: Request) -> Reply:
    """Answers as the backend's reload route does (docs/api.md)."""
    if request.headers.get("authorization") != f"Bearer {ADMIN}":
        return Reply(401, {"detail": "bad admin token"})
    revision = request.json()["revision"]
    if revision not in (OLD, NEW):
        return Reply(409, {"detail": f"revision {revision} not found in the repo"})
    return Reply(200, {"status": "reloaded", "sha": revision, "previous_sha": OLD})


def test_reloads_the_release_and_checks_the_sha(standin, client):
    standin.responder = backend_like
    result = trigger(webhook(standin), sha=NEW, client=client, retry=FAST_RETRY)

    assert result.triggered and "reloaded" in result.detail
    [request] = standin.requests
    assert (request.method, request.path) == ("POST", "/admin/reload")
    assert request.headers["authorization"] == f"Bearer {ADMIN}"
    assert request.json() == {"revision": NEW}


def test_a_reload_to_another_sha_is_a_failure(standin, client):
    standin.responder = lambda request: Reply(200, {"status": "unchanged", "sha": OLD,
                                                    "previous_sha": OLD})
    with pytest.raises(DeployError) as caught:
        trigger(webhook(standin), sha=NEW, client=client, retry=FAST_RETRY)
    assert OLD in caught.value.message and NEW in caught.value.message


def test_a_refused_reload_passes_on_the_backends_reason(standin, client):
    standin.responder = backend_like
    with pytest.raises(DeployError) as caught:
        trigger(webhook(standin), sha="c" * 40, client=client, retry=FAST_RETRY)
    assert "HTTP 409" in caught.value.message and "not found in the repo" in caught.value.message


def test_a_wrong_admin_token_is_named_not_shown(standin, client):
    standin.responder = backend_like
    with pytest.raises(DeployError) as caught:
        trigger(webhook(standin, token="admin-wrong-9999"), sha=NEW, client=client,
                retry=FAST_RETRY)
    assert "HTTP 401" in caught.value.message and "ADMIN_TOKEN" in caught.value.hint
    assert_no_secret(str(caught.value), "admin-wrong-9999", ADMIN)


def test_a_backend_without_the_route_says_how_to_turn_it_on(standin, client):
    standin.responder = lambda request: Reply(404, {"detail": "Not Found"})
    with pytest.raises(DeployError) as caught:
        trigger(webhook(standin), sha=NEW, client=client, retry=FAST_RETRY)
    assert "HTTP 404" in caught.value.message
    assert "ADMIN_TOKEN" in caught.value.hint


def test_missing_settings_are_named(client):
    with pytest.raises(ConfigError, match="BACKEND_URL"):
        trigger(Settings(deploy_target="webhook", admin_token=ADMIN), sha=NEW, client=client)
    with pytest.raises(ConfigError, match="ADMIN_TOKEN"):
        trigger(Settings(deploy_target="webhook", backend_url="http://127.0.0.1:1"), sha=NEW,
                client=client)
