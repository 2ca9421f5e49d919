"""The webhook trigger (`POST /admin/reload`) against a stand-in backend that follows its
watched revision, as the real one does (docs/api.md)."""

from __future__ import annotations

import pytest

from hubship.config import Settings
from hubship.deploy import trigger
from hubship.errors import ConfigError, DeployError
from tests.support.standin import (
    FAST_RETRY,
    Reply,
    Request,
    StandIn,
    assert_no_secret,
    version_answer,
)

ADMIN = "admin-token-3c9d1e"
OLD, NEW, NEWER = "a" * 40, "b" * 40, "c" * 40
TAGS = {OLD: "v1", NEW: "v2", NEWER: "v3"}


def webhook(standin: StandIn, token: str = ADMIN) -> Settings:
    return Settings(deploy_target="webhook", backend_url=standin.url + "/", admin_token=token)


def backend_watching(head: str, *, revision: str = "main"):
    """A backend that serves OLD and, on a reload with no body, loads what its watched
    revision resolves to (`head`). A body would pin it: the trigger must never send one."""
    served = {"sha": OLD}

    def respond(request: Request) -> Reply:
        if request.method == "GET" and request.path == "/version":
            sha = served["sha"]
            return Reply(200, version_answer(sha, tag=TAGS[sha], revision=revision))
        if request.headers.get("authorization") != f"Bearer {ADMIN}":
            return Reply(401, {"detail": "missing or wrong bearer token"})
        if request.body.strip():
            return Reply(400, {"detail": "this stand-in refuses pinned reloads"})
        previous, served["sha"] = served["sha"], head
        status = "unchanged" if previous == head else "reloaded"
        return Reply(200, {"status": status, "sha": head, "previous_sha": previous})

    return respond


def test_reloads_the_watched_revision_without_pinning_and_checks_the_sha(standin, client):
    standin.responder = backend_watching(NEW)
    result = trigger(webhook(standin), sha=NEW, client=client, retry=FAST_RETRY)

    assert result.triggered
    assert result.detail == f"the backend reloaded {OLD[:12]} -> {NEW[:12]}"
    [request] = standin.requests
    assert (request.method, request.path) == ("POST", "/admin/reload")
    assert request.headers["authorization"] == f"Bearer {ADMIN}"
    assert request.body == b"", "a body would pin the backend to one sha for good"


def test_a_backend_already_serving_the_release_is_fine(standin, client):
    standin.responder = backend_watching(OLD)
    result = trigger(webhook(standin), sha=OLD, client=client, retry=FAST_RETRY)
    assert result.detail == f"the backend already served {OLD[:12]}"


def test_rerunning_an_old_deploy_never_rolls_production_back(standin, client):
    """The Hub's head is v3 by now: deploying v2 again must fail, saying production serves v3."""
    standin.responder = backend_watching(NEWER)
    with pytest.raises(DeployError) as caught:
        trigger(webhook(standin), sha=NEW, client=client, retry=FAST_RETRY)
    message = caught.value.message
    assert f"serves {NEWER[:12]} (v3, release 3, from hub)" in message
    assert f"not {NEW}" in message
    assert "hubship rollback" in caught.value.hint


def test_a_backend_watching_a_pinned_revision_says_so(standin, client):
    standin.responder = backend_watching(OLD, revision="v1")
    with pytest.raises(DeployError) as caught:
        trigger(webhook(standin), sha=NEW, client=client, retry=FAST_RETRY)
    assert "watching revision 'v1'" in caught.value.message
    assert "MODEL_REVISION" in caught.value.hint


def test_a_refused_reload_passes_on_the_backends_reason(standin, client):
    standin.responder = lambda request: Reply(
        409, {"detail": "revision main resolves to v1, older than the served v2"})
    with pytest.raises(DeployError) as caught:
        trigger(webhook(standin), sha=NEW, client=client, retry=FAST_RETRY)
    assert "HTTP 409" in caught.value.message and "older than" in caught.value.message


def test_a_wrong_admin_token_is_named_not_shown(standin, client):
    standin.responder = backend_watching(NEW)
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
