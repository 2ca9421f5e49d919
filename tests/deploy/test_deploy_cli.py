"""`hubship deploy` and `hubship verify` as a user (or the workflow) runs them."""

from __future__ import annotations

import itertools
import subprocess

import pytest
from test_deploy_railway import COMMIT, ENVIRONMENT, SERVICE, TOKEN, railway_like

from tests.support.cli import run_hubship
from tests.support.standin import Reply, StandIn, assert_no_secret, version_answer

HUB_SHA = "fedcba9876543210fedcba9876543210fedcba98"


def hubship(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`hubship ARGS` in this test's process (tests.support.cli): what it prints, its exit
    code."""
    return run_hubship(*args, env=env)


def railway_env(standin: StandIn, token: str = TOKEN) -> dict[str, str]:
    return {"DEPLOY_TARGET": "railway", "RAILWAY_API_URL": f"{standin.url}/graphql/v2",
            "RAILWAY_TOKEN": token, "RAILWAY_SERVICE_ID": SERVICE,
            "RAILWAY_ENVIRONMENT_ID": ENVIRONMENT}


def test_deploy_reads_the_sha_and_commit_from_the_environment(standin):
    standin.responder = railway_like
    done = hubship("deploy", env={**railway_env(standin), "HUBSHIP_RELEASE_SHA": HUB_SHA,
                                  "HUBSHIP_DEPLOY_COMMIT": COMMIT, "BACKEND_URL": standin.url})

    assert done.returncode == 0, done.stderr
    assert "deploy-42" in done.stdout
    assert standin.requests[0].json()["variables"]["commitSha"] == COMMIT


def test_deploy_failure_exits_non_zero_without_the_token(standin):
    standin.responder = railway_like
    done = hubship("deploy", "--sha", HUB_SHA, env={**railway_env(standin, token="rw-bad-token-1"),
                                                    "BACKEND_URL": standin.url})

    assert done.returncode == 1
    assert "Not Authorized" in done.stderr and "RAILWAY_TOKEN" in done.stderr
    assert_no_secret(done.stdout + done.stderr, "rw-bad-token-1")


def test_deploy_without_a_sha_says_how_to_give_one():
    done = hubship("deploy", "--target", "none", env={})
    assert done.returncode == 2
    assert "--sha" in done.stderr and "HUBSHIP_RELEASE_SHA" in done.stderr


def test_verify_prints_what_production_serves(standin):
    standin.responder = lambda request: Reply(200, version_answer(HUB_SHA))
    done = hubship("verify", "--sha", HUB_SHA, "--timeout", "10",
                   env={"BACKEND_URL": standin.url})
    assert done.returncode == 0, done.stderr
    assert HUB_SHA in done.stdout and "v3" in done.stdout


def test_verify_failure_exits_non_zero_with_the_served_release(standin):
    standin.responder = lambda request: Reply(200, version_answer("9" * 40, tag="v2"))
    done = hubship("verify", "--sha", HUB_SHA, "--backend-url", standin.url, "--timeout", "0.3",
                   "--interval", "0.1", env={})
    assert done.returncode == 1
    assert "still serves 999999999999 (v2" in done.stderr


def test_verify_without_a_backend_url_names_the_variable():
    done = hubship("verify", "--sha", HUB_SHA, env={})
    assert done.returncode == 2 and "BACKEND_URL" in done.stderr


def backend_and_railway(served_sha: str):
    """One stand-in playing production's backend (/version) and Railway (/graphql/v2)."""
    def respond(request):
        if request.path == "/version":
            return Reply(200, version_answer(served_sha))
        return railway_like(request)
    return respond


def test_deploy_if_needed_skips_when_production_already_serves_the_release(standin):
    standin.responder = backend_and_railway(HUB_SHA)
    done = hubship("deploy", "--if-needed", "--sha", HUB_SHA,
                   env={**railway_env(standin), "BACKEND_URL": standin.url})

    assert done.returncode == 0, done.stderr
    assert f"deploy skipped: production already serves {HUB_SHA[:12]} (v3" in done.stdout
    assert [r.method for r in standin.requests] == ["GET"], "nothing may be deployed"


def test_deploy_if_needed_deploys_when_production_serves_another_release(standin):
    standin.responder = backend_and_railway("9" * 40)
    done = hubship("deploy", "--if-needed", "--sha", HUB_SHA,
                   env={**railway_env(standin), "BACKEND_URL": standin.url})

    assert done.returncode == 0, done.stderr
    assert "deploy started: Railway is rebuilding the latest deployment" in done.stdout
    [post] = [r for r in standin.requests if r.method == "POST"]
    assert "serviceInstanceRedeploy" in post.json()["query"]  # no commit: the code stays


@pytest.mark.parametrize("if_needed", [[], ["--if-needed"]])
def test_a_deploy_target_without_a_backend_url_is_refused_before_deploying(standin, if_needed):
    """Nothing could prove the deploy: never a silently unverified one."""
    standin.responder = railway_like
    done = hubship("deploy", *if_needed, "--sha", HUB_SHA, env=railway_env(standin))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "DEPLOY_TARGET=railway needs BACKEND_URL to prove production serves" in done.stderr
    assert standin.requests == [], "nothing may be deployed"


def backend_pinned_to(revision: str, served_sha: str = "9" * 40):
    """Production started with MODEL_REVISION=<revision>, serving another release."""
    def respond(request):
        if request.path == "/version":
            return Reply(200, version_answer(served_sha, revision=revision))
        return railway_like(request)
    return respond


def _deploy_if_needed(standin, tmp_path, **env: str):
    output = tmp_path / "github-output"
    output.write_text("")
    done = hubship("deploy", "--if-needed", "--sha", HUB_SHA,
                   env={**railway_env(standin), "BACKEND_URL": standin.url,
                        "GITHUB_OUTPUT": str(output), **env})
    return done, output.read_text()


def test_an_unchanged_release_never_restarts_a_pinned_production(standin, tmp_path):
    standin.responder = backend_pinned_to("v3")
    done, output = _deploy_if_needed(standin, tmp_path, HUBSHIP_RELEASE_CHANGED="false")

    assert done.returncode == 0, done.stderr
    assert ("deploy skipped: production is pinned to v3 (MODEL_REVISION); not deploying"
            in done.stdout)
    assert [r.method for r in standin.requests] == ["GET"], "nothing may be deployed"
    assert output == "verify=false\n", "the workflow must skip verify: nothing new to prove"


@pytest.mark.parametrize("changed", ["true", None])
def test_a_new_release_with_a_pinned_production_fails_at_once(standin, tmp_path, changed):
    """A restart would bring back v3 and verify would wait 300 s for nothing: fail now."""
    standin.responder = backend_pinned_to("v3")
    env = {"HUBSHIP_RELEASE_TAG": "v5"} | ({"HUBSHIP_RELEASE_CHANGED": changed} if changed
                                           else {})
    done, output = _deploy_if_needed(standin, tmp_path, **env)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "production is pinned to v3 by MODEL_REVISION, so it will not serve v5" in done.stderr
    assert "unset MODEL_REVISION" in done.stderr
    assert ("published v5, but" in done.stderr) == (changed == "true")
    assert [r.method for r in standin.requests] == ["GET"], "nothing may be deployed"
    assert output == ""


def test_a_production_watching_main_gets_the_deploy_and_verify(standin, tmp_path):
    standin.responder = backend_pinned_to("main")
    done, output = _deploy_if_needed(standin, tmp_path, HUBSHIP_RELEASE_CHANGED="false")

    assert done.returncode == 0, done.stderr
    assert "deploy started: Railway is rebuilding" in done.stdout  # the catch-up
    assert output == "verify=true\n"


def test_a_hosts_words_in_an_error_are_printed_as_text_not_markup(standin):
    standin.responder = lambda request: Reply(400, {"detail": "bad [/x] input [bold]here"})
    done = hubship("deploy", "--sha", HUB_SHA,
                   env={**railway_env(standin), "BACKEND_URL": standin.url})

    assert done.returncode == 1, done.stderr
    assert "bad [/x] input [bold]here" in done.stderr  # a MarkupError would print a traceback
    assert "Traceback" not in done.stderr


def test_verify_reads_the_replica_count_from_the_environment(standin):
    # a round-robin balancer over three replicas
    replicas = itertools.cycle(["web-a", "web-b", "web-c"])
    standin.responder = lambda request: Reply(200, version_answer(HUB_SHA,
                                                                  replica=next(replicas)))
    done = hubship("verify", "--timeout", "10", "--interval", "0.05",
                   env={"BACKEND_URL": standin.url, "HUBSHIP_RELEASE_SHA": HUB_SHA,
                        "HUBSHIP_VERIFY_REPLICAS": "3"})
    assert done.returncode == 0, done.stderr
    assert len(standin.requests) == 3


def test_verify_prints_the_backends_words_as_text_not_markup(standin):
    standin.responder = lambda request: Reply(200, version_answer(HUB_SHA, tag="[/x] [info]v3"))
    done = hubship("verify", "--sha", HUB_SHA, "--timeout", "10",
                   env={"BACKEND_URL": standin.url})
    assert done.returncode == 0, done.stderr
    assert "[/x] [info]v3" in done.stdout


def test_a_backend_url_without_a_scheme_fails_at_once():
    done = hubship("verify", "--sha", HUB_SHA, env={"BACKEND_URL": "myapp.up.railway.app"})
    assert done.returncode == 2
    assert "BACKEND_URL: must start with http:// or https://" in done.stderr
