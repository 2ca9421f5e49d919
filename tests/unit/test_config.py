"""Settings: a wrong variable is a clear error naming it (and never echoing a secret); the
embedded local hub is the default only off CI and only when no repo is named."""

from __future__ import annotations

import subprocess

import pytest

from hubship.config import Settings
from hubship.errors import ConfigError
from tests.support.cli import run_hubship


def _hubship(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`hubship ARGS` in this test's process (tests.support.cli)."""
    return run_hubship(*args, env=dict(env))


def test_a_malformed_variable_names_itself_and_exits_2():
    done = _hubship("publish", "--dry-run", HUBSHIP_HUB_RETRIES="many")
    assert done.returncode == 2
    assert "HUBSHIP_HUB_RETRIES" in done.stderr and "'many'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_deploy_target_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="DEPLOY_TARGET.*'railway', 'render', 'webhook'"):
        Settings.load(deploy_target="heroku")


def test_inference_workers_take_a_count_or_auto(monkeypatch):
    assert Settings.load().inference_workers == "1"
    monkeypatch.setenv("HUBSHIP_INFERENCE_WORKERS", "Auto")
    assert Settings.load().inference_workers == "auto"
    monkeypatch.setenv("HUBSHIP_INFERENCE_WORKERS", "two")
    with pytest.raises(ConfigError, match="HUBSHIP_INFERENCE_WORKERS: must be a number of "
                       r"inference processes .* or auto \(one per core\) \(got 'two'\)"):
        Settings.load()


@pytest.mark.parametrize("repo_id", ["no-namespace", "a/b/c", "bad name/x", "a//b"])
def test_an_invalid_repo_id_is_a_config_error(repo_id: str):
    with pytest.raises(ConfigError, match="HF_REPO_ID"):
        _ = Settings(hf_repo_id=repo_id, hf_endpoint="http://127.0.0.1:1").repo_id


def test_local_hub_by_default_but_never_in_github_actions():
    assert Settings(hf_endpoint=None).uses_local_hub
    in_ci = Settings(hf_endpoint=None, github_actions=True)
    assert not in_ci.uses_local_hub
    with pytest.raises(ConfigError, match="HF_TOKEN is not set"):
        in_ci.write_token()
    with pytest.raises(ConfigError, match="HF_REPO_ID is not set"):
        _ = in_ci.repo_id


def test_a_repo_id_without_an_endpoint_means_huggingface_co():
    """A production backend reading a public repo sets only HF_REPO_ID: never the local hub."""
    public = Settings(hf_endpoint=None, hf_token=None, hf_repo_id="my-team/penguins")
    assert not public.uses_local_hub
    assert public.endpoint == "https://huggingface.co"
    assert public.repo_id == "my-team/penguins"


def test_the_local_hub_needs_no_endpoint_token_or_repo_id():
    local = Settings(hf_endpoint=None, hf_token=None, hf_repo_id=None)
    assert local.endpoint == "http://127.0.0.1:8900"
    assert local.repo_id == "local/models"


@pytest.mark.parametrize("url", ["myapp.up.railway.app", "ftp://host", "127.0.0.1:8000"])
def test_a_backend_url_without_http_is_refused_at_once(url: str):
    with pytest.raises(ConfigError, match=r"BACKEND_URL: must start with http:// or https://"):
        Settings.load(backend_url=url)


def test_a_backend_url_loses_its_trailing_slash(monkeypatch):
    monkeypatch.setenv("BACKEND_URL", "https://penguins.up.railway.app/")
    assert Settings().backend_url == "https://penguins.up.railway.app"


def test_deploy_and_verify_variables_are_settings(monkeypatch):
    monkeypatch.setenv("HUBSHIP_RELEASE_SHA", "a" * 40)
    monkeypatch.setenv("HUBSHIP_DEPLOY_COMMIT", "b" * 40)
    monkeypatch.setenv("HUBSHIP_VERIFY_REPLICAS", "3")
    monkeypatch.setenv("RAILWAY_API_URL", "http://127.0.0.1:9/graphql")
    settings = Settings()
    assert (settings.release_sha, settings.deploy_commit) == ("a" * 40, "b" * 40)
    assert settings.verify_replicas == 3
    assert settings.railway_api_url == "http://127.0.0.1:9/graphql"
    with pytest.raises(ConfigError, match="HUBSHIP_VERIFY_REPLICAS"):
        Settings.load(verify_replicas=0)


def test_empty_variables_count_as_unset(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "")  # what GitHub passes for a missing secret
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert Settings().hf_token is None


def test_secrets_never_show_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "plain-secret-value-1")
    monkeypatch.setenv("ADMIN_TOKEN", "plain-secret-value-2")
    settings = Settings()
    assert "plain-secret-value" not in repr(settings) + str(settings)
    assert set(settings.secrets()) >= {"plain-secret-value-1", "plain-secret-value-2"}


@pytest.mark.parametrize("given", [{"HUBSHIP_SIGNING_KEY": 98765432123},  # by its alias
                                   {"signing_key": 98765432123},
                                   {"ADMIN_TOKEN": 98765432123}])
def test_an_invalid_secret_is_named_but_its_value_never_echoed(given: dict[str, object]):
    """pydantic reports an aliased field by its alias: the secret must still be recognised."""
    with pytest.raises(ConfigError) as caught:
        Settings.load(**given)
    variable = "ADMIN_TOKEN" if "ADMIN_TOKEN" in given else "HUBSHIP_SIGNING_KEY"
    assert f"{variable}: " in caught.value.message
    assert "98765432123" not in str(caught.value)


def test_an_invalid_aliased_setting_that_is_not_secret_is_echoed():
    with pytest.raises(ConfigError, match=r"HUBSHIP_VERIFY_TIMEOUT: .* \(got 'soon'\)"):
        Settings.load(HUBSHIP_VERIFY_TIMEOUT="soon")
