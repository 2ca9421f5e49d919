"""A real uvicorn backend with HUBSHIP_VERIFY_KEY: it loads only releases signed with the key
pair, never unpickles anything else (the marker pickle), and says whether what it serves was
verified. Releases: `tests.support.release_builder` (Bundle), published by the real
publisher, signed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from rich.console import Console

from hubship.publish import publish
from hubship.registry import Registry
from hubship.release import Trust
from tests.support.backend import ADMIN_TOKEN, log_text, model_libraries_in, wait_for
from tests.support.release_builder import (
    BACKEND_MODELS,
    GOOD_PENGUIN,
    build_release,
    publish_release,
)
from tests.support.trust import key_files, pem_body_lines, plant_marker, upload_raw

pytestmark = pytest.mark.slow
WARNING = "releases are NOT signature-verified"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return key_files(tmp_path_factory.mktemp("keys"))


def _env(hub_url: str, repo_id: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HF_ENDPOINT": hub_url, "HF_REPO_ID": repo_id, "ADMIN_TOKEN": ADMIN_TOKEN,
            "HUBSHIP_HOME": str(tmp_path / "home"), **extra}


def _built(folder: Path, number: int) -> Path:
    build_release(folder, BACKEND_MODELS, release=number, flexibility=number)
    return folder


def _reload(url: str) -> httpx.Response:
    return httpx.post(f"{url}/admin/reload", timeout=60,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})


def test_a_first_load_of_an_unsigned_release_stays_not_ready_and_runs_nothing(
    hf_api, repo_id, hub_url, tmp_path, start_backend, keys,
):
    marker = tmp_path / "marker"
    release = tmp_path / "v1"
    build_release(release, BACKEND_MODELS, release=1)
    plant_marker(release, marker)
    hf_api.create_repo(repo_id)
    upload_raw(hf_api, repo_id, release, tag="v1")  # honest sha256s, no signature

    backend = start_backend(_env(hub_url, repo_id, tmp_path, HUBSHIP_VERIFY_KEY=str(keys[2])))
    ready = httpx.get(f"{backend.url}/ready")
    assert ready.status_code == 503
    assert "is not signed (no manifest.sig); nothing of it was loaded" in ready.json()["reason"]
    assert httpx.get(f"{backend.url}/version").status_code == 503
    # the backend keeps retrying the Hub; no retry unpickles it either
    assert wait_for(lambda: log_text(backend).count("not signed") >= 2, timeout=20)
    assert not marker.exists()
    assert WARNING not in log_text(backend)


def test_a_reload_refuses_a_tampered_or_foreign_release_and_keeps_the_signed_one(
    hf_api, repo_id, hub_url, tmp_path, start_backend, keys, hf_cache,
):
    key, _, public = keys
    marker = tmp_path / "marker"
    v1 = publish_release(hf_api, repo_id, _built(tmp_path / "v1", 1), cache_dir=hf_cache,
                         signing_key=key)
    # the verify key as PEM text, the way a Railway or Render variable holds it
    backend = start_backend(_env(hub_url, repo_id, tmp_path,
                                 HUBSHIP_VERIFY_KEY=public.read_text()))
    served = httpx.get(f"{backend.url}/version").json()
    assert (served["sha"], served["verified"]) == (v1, True)
    assert httpx.post(f"{backend.url}/models/species/predict", json=GOOD_PENGUIN
                      ).json()["prediction"]["label"] == "Adelie"
    # the backend verifies; only its inference process unpickles (and imports scikit-learn)
    assert backend.process is not None
    assert model_libraries_in(backend.process.pid) == set()

    # an attacker with the write token: a new model and a manifest re-hashed to match it
    attack = plant_marker(_built(tmp_path / "v2", 2), marker)
    upload_raw(hf_api, repo_id, attack, tag="v2")
    refused = _reload(backend.url)
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "failed signature verification: changed after signing: " in detail
    assert "manifest.json" in detail and "models/species.joblib" in detail
    assert httpx.get(f"{backend.url}/version").json()["sha"] == v1
    assert httpx.post(f"{backend.url}/models/species/predict", json=GOOD_PENGUIN
                      ).status_code == 200

    # a release signed with another key pair
    registry = Registry(hf_api, repo_id, cache_dir=hf_cache)
    foreign = key_files(tmp_path / "foreign")[0]
    publish(registry, _built(tmp_path / "v3", 3), force=True, console=Console(quiet=True),
            trust=Trust(foreign.public), signing_key=foreign)
    refused = _reload(backend.url)
    assert refused.status_code == 409
    assert "manifest.sig was made with another key" in refused.json()["detail"]
    assert httpx.get(f"{backend.url}/version").json()["sha"] == v1

    # the project's key again: a signed release loads (forced past the unverifiable champion)
    result = publish(registry, _built(tmp_path / "v4", 4), force=True, console=Console(quiet=True),
                     trust=Trust(key.public), signing_key=key)
    assert result.signed and result.forced
    assert _reload(backend.url).json()["status"] == "reloaded"
    served = httpx.get(f"{backend.url}/version").json()
    assert (served["sha"], served["tag"], served["verified"]) == (result.sha, "v4", True)

    assert not marker.exists()
    log = log_text(backend)
    assert "failed signature verification" in log
    assert not any(line in log for line in pem_body_lines(key))
    assert WARNING not in log


def test_without_a_verify_key_the_backend_says_so_once_and_serves_unverified(
    hf_api, repo_id, hub_url, tmp_path, start_backend, keys, hf_cache,
):
    sha = publish_release(hf_api, repo_id, _built(tmp_path / "v1", 1), cache_dir=hf_cache,
                          signing_key=keys[0])
    backend = start_backend(_env(hub_url, repo_id, tmp_path))
    served = httpx.get(f"{backend.url}/version").json()
    assert (served["sha"], served["verified"]) == (sha, False)
    assert _reload(backend.url).status_code == 200
    assert log_text(backend).count(WARNING) == 1


def test_a_malformed_verify_key_stops_the_backend_at_start(repo_id, hub_url, tmp_path):
    """A configuration error: the process does not start (a host keeps the old deploy)."""
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import backend.main"], cwd=Path(__file__).resolve().parents[2],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, **_env(hub_url, repo_id, tmp_path),
             "HUBSHIP_VERIFY_KEY": "not a key"},
    )
    assert done.returncode != 0
    assert "HUBSHIP_VERIFY_KEY is neither PEM text" in done.stderr
