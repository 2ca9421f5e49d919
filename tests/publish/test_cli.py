"""The entry points as a user runs them: scripts/upload_models.py and `python -m hubship` as
processes of their own; the other `hubship ...` commands in this process (tests.support.cli: the
same `hubship.cli.main`, without an interpreter start and imports per call)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hubship.services import free_port, hub_service, is_up, port_is_free
from tests.support.cli import run_hubship

ROOT = Path(__file__).resolve().parents[2]
# Not shaped like "hf_...": redact() always masks that shape, so only the secrets list can
# keep this one out of a message, and a leak through it shows.
SECRET_TOKEN = "wrong-token-that-must-never-be-printed-7Qx2"


def _run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **env}
    for name in [k for k, v in env.items() if v is None]:
        full_env.pop(name)
    return subprocess.run(argv, cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=300)


def _upload(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "scripts/upload_models.py", *args], **env)


def _hubship(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_hubship(*args, env=env, cwd=ROOT)


def test_upload_script_then_releases_and_rollback(hub_url: str, repo_id: str, trained_once: Path,
                                                  worse: Path, tmp_path: Path) -> None:
    outputs = tmp_path / "github_output"
    env = {"HF_ENDPOINT": hub_url, "HF_TOKEN": "test-token", "HF_REPO_ID": repo_id,
           "HUBSHIP_ASSETS_DIR": str(trained_once), "GITHUB_OUTPUT": str(outputs)}
    first = _upload(**env)
    assert first.returncode == 0, first.stderr
    assert "published v1:" in first.stdout
    written = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert written["tag"] == "v1" and written["changed"] == "true" and len(written["sha"]) == 40

    again = _upload(**env)
    assert again.returncode == 0
    assert re.search(r"unchanged: v1 \([0-9a-f]{40}\) is the latest release", again.stdout)

    refused = _hubship("publish", "--assets-dir", str(worse), **env)
    assert refused.returncode == 3
    assert "REFUSED" in refused.stdout and "worse" in refused.stdout
    assert "challenger is worse" in refused.stderr

    forced = _hubship("publish", "--force", "--assets-dir", str(worse), **env)
    assert forced.returncode == 0 and "published v2:" in forced.stdout
    assert "FORCED" in forced.stdout

    no_target = _hubship("rollback", "v1", "--deploy", **env)  # refused before publishing
    assert no_target.returncode == 2 and "DEPLOY_TARGET" in no_target.stderr

    rolled = _hubship("rollback", "v1", **env)
    assert rolled.returncode == 0, rolled.stderr
    assert "published v3:" in rolled.stdout and "restores v1" in rolled.stdout
    sha = re.search(r"published v3: ([0-9a-f]{40})", rolled.stdout).group(1)
    # production is not rolled back by this command: it ends with the command that does
    assert rolled.stdout.rstrip().endswith(
        f"hubship deploy --sha {sha} && hubship verify --sha {sha}")

    listing = _hubship("releases", **env)
    assert listing.returncode == 0, listing.stderr
    for tag in ("v1", "v2", "v3"):
        assert tag in listing.stdout
    assert "f1_macro" in listing.stdout and "FORCED" in listing.stdout


def test_missing_repo_id_with_a_real_endpoint_is_a_config_error(hub_url: str) -> None:
    result = _upload(HF_ENDPOINT=hub_url, HF_TOKEN=SECRET_TOKEN)
    assert result.returncode == 2
    assert "HF_REPO_ID is not set" in result.stderr and "hint" in result.stderr
    assert SECRET_TOKEN not in result.stdout + result.stderr


def test_unreachable_hub_is_retried_then_a_clear_error(trained_once: Path, tmp_path) -> None:
    from huggingface_hub import HfApi

    from hubship.errors import HubUnreachableError
    from hubship.publish import publish
    from hubship.registry import Registry

    dead = f"http://127.0.0.1:{free_port()}"
    registry = Registry(HfApi(endpoint=dead, token=SECRET_TOKEN), "team/penguins",
                        cache_dir=tmp_path, retries=2, backoff=0.01)
    with pytest.raises(HubUnreachableError) as caught:
        publish(registry, trained_once)
    assert f"the Hub at {dead} did not answer" in str(caught.value)
    assert "HF_ENDPOINT" in caught.value.hint
    assert SECRET_TOKEN not in str(caught.value)


def test_a_token_without_write_access_is_refused_and_never_printed(
    tmp_path: Path, trained_once: Path
) -> None:
    with hub_service(tmp_path / "hub", token="secret", log_path=tmp_path / "hub.log") as hub:
        result = _upload(HF_ENDPOINT=hub.url, HF_TOKEN=SECRET_TOKEN, HF_REPO_ID="team/penguins",
                         HUBSHIP_ASSETS_DIR=str(trained_once))
    assert result.returncode == 1
    assert "refused the credentials" in result.stderr and "HF_TOKEN" in result.stderr
    assert SECRET_TOKEN not in result.stdout + result.stderr


def test_dry_run_publishes_nothing(hub_url: str, repo_id: str, hf_api, trained_once: Path
                                   ) -> None:
    result = _upload("--dry-run", HF_ENDPOINT=hub_url, HF_TOKEN="t", HF_REPO_ID=repo_id,
                     HUBSHIP_ASSETS_DIR=str(trained_once))
    assert result.returncode == 0 and "dry run: would publish v1" in result.stdout
    assert not hf_api.repo_exists(repo_id)


def test_without_endpoint_and_token_the_embedded_hub_is_used_and_named(
    tmp_path: Path, trained_once: Path
) -> None:
    from hubship.config import LOCAL_HUB_PORT

    if is_up(f"http://127.0.0.1:{LOCAL_HUB_PORT}/api/health") or not port_is_free(LOCAL_HUB_PORT):
        pytest.skip(f"port {LOCAL_HUB_PORT} is in use (another embedded hub is running)")
    with hub_service(tmp_path / "hub", port=LOCAL_HUB_PORT, log_path=tmp_path / "hub.log"):
        result = _upload(HF_ENDPOINT=None, HF_TOKEN=None, HF_REPO_ID=None,
                         HUBSHIP_ASSETS_DIR=str(trained_once))
    assert result.returncode == 0, result.stderr
    assert f"using the embedded local hub at http://127.0.0.1:{LOCAL_HUB_PORT}" in result.stdout
    assert "published v1:" in result.stdout


def test_help_lists_the_loop_in_order_with_plain_flags_and_the_version() -> None:
    top = _hubship("--help")
    commands = re.findall(r"^  ([a-z-]+)  ", top.stdout.split("Commands:")[1], flags=re.M)
    assert commands[:8] == ["demo", "run", "train", "publish", "deploy", "verify", "releases",
                            "rollback"]
    # `python -m hubship` itself, once, as its own process
    version = _run([sys.executable, "-m", "hubship", "--version"])
    assert version.returncode == 0, version.stderr
    assert re.fullmatch(r"hubship \d+\.\d+\.\d+\n", version.stdout)
    publish = _hubship("publish", "--help").stdout
    assert "--force / --no-force" in publish and "<bool>" not in publish
    assert _hubship("publish", "--dry-run", "--no-dry-run", "--help").returncode == 0
    assert "demo.env" in _hubship("run", "--help").stdout
    assert "2 GiB" in _hubship("hub", "--help").stdout


def test_deploy_of_a_given_sha_with_no_target_fails_saying_how_to_set_one() -> None:
    done = _hubship("deploy", "--sha", "f" * 40, DEPLOY_TARGET="none")
    assert done.returncode == 2
    assert "DEPLOY_TARGET" in done.stderr and "railway, render or webhook" in done.stderr
