"""The Railway trigger against a local stand-in that checks the request Railway expects."""

from __future__ import annotations

import re

import httpx
import pytest

from hubship.config import Settings
from hubship.deploy import RetryPolicy, trigger
from hubship.errors import ConfigError, DeployError
from tests.support.standin import FAST_RETRY, Reply, Request, StandIn, assert_no_secret

TOKEN = "rw-project-token-5f2c9a7e"
SERVICE = "svc-1b2c3d"
ENVIRONMENT = "env-9f8e7d"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
HUB_SHA = "fedcba9876543210fedcba9876543210fedcba98"


def flat(query: str) -> str:
    return re.sub(r"\s+", " ", query).strip()


def railway(standin: StandIn, monkeypatch: pytest.MonkeyPatch, **overrides: str) -> Settings:
    monkeypatch.setenv("RAILWAY_API_URL", f"{standin.url}/graphql/v2")
    values = {"deploy_target": "railway", "railway_token": TOKEN, "railway_service_id": SERVICE,
              "railway_environment_id": ENVIRONMENT, **overrides}
    return Settings(**values)


def railway_like(request: Request) -> Reply:
    """Answers as Railway does: a wrong token or query is an `errors` list with HTTP 200."""
    if request.method != "POST" or request.path != "/graphql/v2":
        return Reply(404, {"message": "Not Found"})
    if request.headers.get("project-access-token") != TOKEN:
        return Reply(200, {"data": None, "errors": [{"message": "Not Authorized"}]})
    body = request.json()
    if "serviceInstanceDeployV2" in body["query"]:
        return Reply(200, {"data": {"serviceInstanceDeployV2": "deploy-42"}})
    return Reply(200, {"data": {"serviceInstanceRedeploy": True}})


def test_deploys_the_code_commit_with_the_request_railway_expects(standin, client, monkeypatch):
    standin.responder = railway_like
    result = trigger(railway(standin, monkeypatch), sha=HUB_SHA, commit_sha=COMMIT,
                     client=client, retry=FAST_RETRY)

    assert result.triggered and result.deployment_id == "deploy-42"
    assert "deploy-42" in result.detail
    [request] = standin.requests
    assert (request.method, request.path) == ("POST", "/graphql/v2")
    assert request.headers["project-access-token"] == TOKEN
    assert "authorization" not in request.headers  # a project token never goes in Bearer
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert flat(body["query"]) == (
        "mutation hubshipDeploy($serviceId: String!, $environmentId: String!, "
        "$commitSha: String) { serviceInstanceDeployV2(serviceId: $serviceId, "
        "environmentId: $environmentId, commitSha: $commitSha) }"
    )
    # The code's commit, never the Hub sha: Railway knows nothing of the Hub.
    assert body["variables"] == {"serviceId": SERVICE, "environmentId": ENVIRONMENT,
                                 "commitSha": COMMIT}


def test_without_a_commit_it_redeploys_the_latest_build(standin, client, monkeypatch):
    standin.responder = railway_like
    result = trigger(railway(standin, monkeypatch), sha=HUB_SHA, client=client, retry=FAST_RETRY)

    assert result.triggered and result.deployment_id is None
    body = standin.requests[0].json()
    assert flat(body["query"]) == (
        "mutation hubshipRedeploy($serviceId: String!, $environmentId: String!) { "
        "serviceInstanceRedeploy(serviceId: $serviceId, environmentId: $environmentId) }"
    )
    assert body["variables"] == {"serviceId": SERVICE, "environmentId": ENVIRONMENT}


def test_graphql_errors_in_a_200_answer_are_a_failure(standin, client, monkeypatch):
    standin.responder = lambda request: Reply(
        200, {"data": None, "errors": [{"message": "Commit not found", "path": ["x"]}]})
    with pytest.raises(DeployError) as caught:
        trigger(railway(standin, monkeypatch), sha=HUB_SHA, commit_sha=COMMIT, client=client,
                retry=FAST_RETRY)

    assert "Commit not found" in caught.value.message
    assert COMMIT in caught.value.hint and "push it" in caught.value.hint
    assert len(standin.requests) == 1


def test_a_wrong_token_says_so_without_showing_it(standin, client, monkeypatch):
    standin.responder = railway_like
    settings = railway(standin, monkeypatch, railway_token="rw-wrong-token-0000")
    with pytest.raises(DeployError) as caught:
        trigger(settings, sha=HUB_SHA, client=client, retry=FAST_RETRY)

    assert "Not Authorized" in caught.value.message
    assert "RAILWAY_TOKEN" in caught.value.hint
    assert_no_secret(str(caught.value), "rw-wrong-token-0000")


def test_http_401_is_final_and_names_the_token(standin, client, monkeypatch):
    standin.responder = lambda request: Reply(401, {"message": f"bad token {TOKEN}"})
    with pytest.raises(DeployError) as caught:
        trigger(railway(standin, monkeypatch), sha=HUB_SHA, client=client, retry=FAST_RETRY)

    assert "HTTP 401" in caught.value.message
    assert "RAILWAY_TOKEN" in caught.value.hint
    assert len(standin.requests) == 1  # a refused token is not retried
    assert_no_secret(str(caught.value), TOKEN)


def test_5xx_is_retried_then_fails(standin, client, monkeypatch):
    standin.responder = lambda request: Reply(503, {"message": "upstream unavailable"})
    with pytest.raises(DeployError) as caught:
        trigger(railway(standin, monkeypatch), sha=HUB_SHA, client=client, retry=FAST_RETRY)

    assert len(standin.requests) == 3
    assert "HTTP 503" in caught.value.message and "3 attempts" in caught.value.message
    assert_no_secret(str(caught.value), TOKEN)


def test_a_transient_5xx_then_success_deploys(standin, client, monkeypatch):
    answers = iter([Reply(502, {"message": "bad gateway"})])
    standin.responder = lambda request: next(answers, None) or railway_like(request)
    result = trigger(railway(standin, monkeypatch), sha=HUB_SHA, commit_sha=COMMIT,
                     client=client, retry=FAST_RETRY)

    assert result.deployment_id == "deploy-42"
    assert len(standin.requests) == 2


def test_no_answer_in_time_fails_after_retries(standin, client, monkeypatch):
    standin.responder = lambda request: Reply(200, {"data": {}}, delay=2.0)
    with pytest.raises(DeployError) as caught:
        trigger(railway(standin, monkeypatch), sha=HUB_SHA, client=client,
                retry=RetryPolicy(attempts=2, backoff=0.01))

    assert "did not answer in time" in caught.value.message
    assert len(standin.requests) == 2


def test_nothing_listening_is_reported(monkeypatch):
    from hubship.services import free_port

    monkeypatch.setenv("RAILWAY_API_URL", f"http://127.0.0.1:{free_port()}/graphql/v2")
    settings = Settings(deploy_target="railway", railway_token=TOKEN, railway_service_id=SERVICE,
                        railway_environment_id=ENVIRONMENT)
    with httpx.Client(timeout=1) as http, pytest.raises(DeployError) as caught:
        trigger(settings, sha=HUB_SHA, client=http, retry=FAST_RETRY)
    assert "could not be reached" in caught.value.message


@pytest.mark.parametrize("missing", ["railway_token", "railway_service_id",
                                     "railway_environment_id"])
def test_a_missing_setting_is_named(standin, client, monkeypatch, missing):
    settings = railway(standin, monkeypatch, **{missing: ""})
    with pytest.raises(ConfigError) as caught:
        trigger(settings, sha=HUB_SHA, client=client, retry=FAST_RETRY)

    assert missing.upper() in caught.value.message
    assert "production" in caught.value.hint  # where to set it in GitHub
    assert standin.requests == []
