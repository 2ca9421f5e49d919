"""The Render trigger against a local stand-in for its deploy hook."""

from __future__ import annotations

import pytest

from hubship.config import Settings
from hubship.deploy import trigger
from hubship.errors import ConfigError, DeployError
from tests.support.standin import FAST_RETRY, Reply, Request, StandIn, assert_no_secret

KEY = "rnd-key-7Hq2xZ9pL4"
HUB_SHA = "fedcba9876543210fedcba9876543210fedcba98"


def render(standin: StandIn, key: str = KEY) -> Settings:
    hook = f"{standin.url}/deploy/srv-d0abc123?key={key}"
    return Settings(deploy_target="render", render_deploy_hook=hook)


def render_like(request: Request) -> Reply:
    """Answers as Render's hook does: the service id in the path, the key in the query."""
    if request.path != "/deploy/srv-d0abc123":
        return Reply(404, {"message": "not found"})
    if request.query.get("key") != [KEY]:
        return Reply(401, {"message": "unauthorized"})
    return Reply(200, {"deploy": {"id": "dep-cu1x2y3z"}})


def test_posts_the_hook_and_reports_the_deploy_id(standin, client):
    standin.responder = render_like
    result = trigger(render(standin), sha=HUB_SHA, client=client, retry=FAST_RETRY)

    assert result.triggered and result.deployment_id == "dep-cu1x2y3z"
    assert "dep-cu1x2y3z" in result.detail
    [request] = standin.requests
    assert (request.method, request.path, request.query) == (
        "POST", "/deploy/srv-d0abc123", {"key": [KEY]})
    assert "authorization" not in request.headers  # the key in the URL is the credential
    assert_no_secret(result.detail, KEY)


def test_an_answer_without_a_deploy_id_still_counts(standin, client):
    standin.responder = lambda request: Reply(200, b"")
    result = trigger(render(standin), sha=HUB_SHA, client=client, retry=FAST_RETRY)
    assert result.triggered and result.deployment_id is None


def test_a_wrong_key_fails_without_showing_the_key(standin, client):
    standin.responder = render_like
    with pytest.raises(DeployError) as caught:
        trigger(render(standin, key="rnd-wrong-key-000"), sha=HUB_SHA, client=client,
                retry=FAST_RETRY)

    message = str(caught.value)
    assert "HTTP 401" in message and "RENDER_DEPLOY_HOOK" in caught.value.hint
    assert "/deploy/srv-d0abc123?key=***" in message  # which hook, without its key
    assert_no_secret(message, "rnd-wrong-key-000")
    assert len(standin.requests) == 1


def test_5xx_is_retried_then_fails_without_the_key(standin, client):
    standin.responder = lambda request: Reply(500, {"message": "internal error"})
    with pytest.raises(DeployError) as caught:
        trigger(render(standin), sha=HUB_SHA, client=client, retry=FAST_RETRY)

    assert len(standin.requests) == 3
    assert "HTTP 500" in caught.value.message
    assert_no_secret(str(caught.value), KEY)


def test_no_answer_in_time_fails_without_the_key(standin, client):
    standin.responder = lambda request: Reply(200, {}, delay=2.0)
    with pytest.raises(DeployError) as caught:
        trigger(render(standin), sha=HUB_SHA, client=client, retry=FAST_RETRY)

    assert "did not answer in time" in caught.value.message
    assert_no_secret(str(caught.value), KEY)


def test_a_missing_hook_is_named(client):
    with pytest.raises(ConfigError) as caught:
        trigger(Settings(deploy_target="render"), sha=HUB_SHA, client=client)
    assert "RENDER_DEPLOY_HOOK" in caught.value.message
    assert "secret" in caught.value.hint


def test_none_triggers_nothing_and_says_so():
    result = trigger(Settings(deploy_target="none"), sha=HUB_SHA)
    assert not result.triggered and "nothing to trigger" in result.detail
