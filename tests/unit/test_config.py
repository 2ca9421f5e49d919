"""Settings: a wrong variable is a clear error naming it (and never echoing a secret); the
embedded local hub is the default only off CI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hubship.config import Settings
from hubship.errors import ConfigError


def _hubship(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "hubship", *args], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "200", **env}, timeout=60)


def test_a_malformed_variable_names_itself_and_exits_2():
    done = _hubship("publish", "--dry-run", HUBSHIP_HUB_RETRIES="many")
    assert done.returncode == 2
    assert "HUBSHIP_HUB_RETRIES" in done.stderr and "'many'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_deploy_target_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="DEPLOY_TARGET.*'railway', 'render', 'webhook'"):
        Settings.load(deploy_target="heroku")


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
