"""The loader and reloads against the session's local hub (real huggingface_hub client)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from hubship.config import Settings
from hubship.errors import IntegrityError, RevisionNotFound
from hubship.hub_client import HubClient
from hubship.loader import load_from_cache, load_from_hub, load_release
from hubship.services import free_port
from hubship.serving.app import create_app
from tests.support.backend import ADMIN_TOKEN, serving, wait_for


def hub_settings(endpoint: str, repo_id: str, home: Path, **extra) -> Settings:
    """The model predicts in a thread (HUBSHIP_INFERENCE_WORKERS=0): these tests check what is
    loaded; inference processes across reloads are test_backend_e2e's and the engine's tests'."""
    return Settings(hf_endpoint=endpoint, hf_repo_id=repo_id, hubship_home=home,
                    HUBSHIP_ASSETS_DIR=home / "no-assets",
                    **{"HUBSHIP_INFERENCE_WORKERS": "0", **extra})


def test_a_missing_revision_is_a_configuration_error(hf_api, hub_url, repo_id, published,
                                                     tmp_path):
    settings = hub_settings(hub_url, repo_id, tmp_path, model_revision="v99")
    with pytest.raises(RevisionNotFound, match="revision not found") as missing:
        load_release(settings, hub=HubClient.for_backend(settings, api=hf_api))
    assert "MODEL_REVISION" in missing.value.hint
    with serving(create_app(settings, hf_api=hf_api)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503 and "revision not found" in ready.json()["reason"]


def test_a_tampered_cache_is_refused_offline(hf_api, hub_url, repo_id, published, tmp_path,
                                             caplog):
    settings = hub_settings(hub_url, repo_id, tmp_path)
    loaded = load_from_hub(settings, hub=HubClient.for_backend(settings, api=hf_api))
    assert load_from_cache(settings).sha == loaded.sha == published[1]
    model_file = loaded.path / "models" / "body_mass.joblib"
    model_file.resolve().write_bytes(b"not the model")

    offline = hub_settings(f"http://127.0.0.1:{free_port()}", repo_id, tmp_path)
    with caplog.at_level(logging.WARNING, logger="hubship"), pytest.raises(IntegrityError):
        load_from_cache(offline)
    assert "cached file rejected, not loading it: models/body_mass.joblib: size" in caplog.text


def test_reload_never_moves_to_an_older_release_unless_pinned(hf_api, hub_url, repo_id,
                                                              published, push_release,
                                                              real_releases, tmp_path):
    v2 = push_release(2)
    settings = hub_settings(hub_url, repo_id, tmp_path, admin_token=ADMIN_TOKEN)
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with serving(create_app(settings, hf_api=hf_api)) as client:
        assert client.get("/version").json()["release"] == 2
        # main moves back to v1's files (a manifest saying release 1) without a new release
        hf_api.upload_folder(folder_path=real_releases[1].files, repo_id=repo_id,
                             commit_message="put v1 back by hand")
        refused = client.post("/admin/reload", headers=auth)
        assert refused.status_code == 409
        assert "older than the served v2" in refused.json()["detail"]
        assert client.get("/version").json()["sha"] == v2

        pinned = client.post("/admin/reload", headers=auth, json={"revision": "v1"})
        assert pinned.json() == {"status": "reloaded", "sha": published[1], "previous_sha": v2}
        version = client.get("/version").json()
        assert (version["release"], version["tag"], version["revision"]) == (1, "v1", "v1")

        releases = client.get("/releases").json()
        assert [r["tag"] for r in releases] == ["v2", "v1"]
        assert releases[0]["title"] == real_releases[2].title  # "Release v2: <git sha> ..."
        metrics = client.get("/metrics").text
        assert 'hubship_reloads_total{outcome="refused"} 1.0' in metrics
        assert 'hubship_reloads_total{outcome="reloaded"} 1.0' in metrics


def test_a_release_loaded_before_its_tag_is_named_by_it_after_a_reload(hf_api, hub_url,
                                                                      repo_id, published,
                                                                      tmp_path):
    """A publish that died between its commit and its tag leaves main untagged; the backend
    loads it; the retry tags it. The next reload (same sha) names the release by its tag."""
    hf_api.delete_tag(repo_id, tag="v1")
    settings = hub_settings(hub_url, repo_id, tmp_path, admin_token=ADMIN_TOKEN)
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with serving(create_app(settings, hf_api=hf_api)) as client:
        assert client.get("/version").json()["tag"] is None
        assert client.post("/admin/reload", headers=auth).json()["status"] == "unchanged"
        assert client.get("/version").json()["tag"] is None  # still untagged: nothing to name
        hf_api.create_tag(repo_id, tag="v1", revision=published[1])
        reloaded = client.post("/admin/reload", headers=auth).json()
        assert (reloaded["status"], reloaded["sha"]) == ("unchanged", published[1])
        assert client.get("/version").json()["tag"] == "v1"


def test_polling_and_the_webhook_pick_up_new_releases(hf_api, hub_url, repo_id, published,
                                                      push_release, tmp_path):
    settings = hub_settings(hub_url, repo_id, tmp_path, model_poll_seconds=0.2)
    with serving(create_app(settings, hf_api=hf_api)) as client:
        assert client.get("/version").json()["release"] == 1
        v2 = push_release(2)
        assert wait_for(lambda: client.get("/version").json()["sha"] == v2)

    hooked_repo = f"{repo_id}-hooked"
    v1 = push_release(1, repo=hooked_repo)
    hooked = hub_settings(hub_url, hooked_repo, tmp_path / "hooked", hf_webhook_secret="s3cret")
    with serving(create_app(hooked, hf_api=hf_api)) as client:
        assert client.get("/version").json()["sha"] == v1
        v2 = push_release(2, repo=hooked_repo)
        hook = {"event": {"action": "update", "scope": "repo.content"},
                "repo": {"type": "model", "name": hooked_repo, "headSha": v2},
                "updatedRefs": [{"ref": "refs/heads/main", "oldSha": v1, "newSha": v2}]}
        answer = client.post("/hooks/huggingface", headers={"X-Webhook-Secret": "s3cret"},
                             json=hook)
        assert answer.status_code == 202 and answer.json()["status"] == "reloading"
        assert wait_for(lambda: client.get("/version").json()["sha"] == v2)
        assert client.get("/version").json()["tag"] == "v2"


def test_docs_show_each_models_request_schema_and_cors(hf_api, hub_url, repo_id, published,
                                                       tmp_path):
    settings = hub_settings(hub_url, repo_id, tmp_path, cors_origins="https://app.example")
    with serving(create_app(settings, hf_api=hf_api)) as client:
        assert client.get("/docs").status_code == 200
        schema = client.get("/openapi.json").json()
        species = schema["components"]["schemas"]["SpeciesInput"]
        island = species["properties"]["island"]
        # models/train.py's OneHotEncoder ignores unseen islands: named, not enforced (a warning)
        assert "enum" not in island and island["type"] == "string"
        assert "usually one of 'Biscoe', 'Dream', 'Torgersen'" in island["description"]
        assert "SpeciesInput" in json.dumps(  # one path per model, with its own body
            schema["paths"]["/models/species/predict"]["post"]["requestBody"])
        preflight = client.options("/models/species/predict", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        # a browser's predict (it sends Origin) gets CORS headers: it skips the fast path
        record = {"island": "Biscoe", "sex": "female", "bill_length_mm": 46.1,
                  "bill_depth_mm": 13.2, "flipper_length_mm": 211.0, "body_mass_g": 4500.0}
        simple = client.post("/models/species/predict", json=record,
                             headers={"Origin": "https://app.example"})
        assert simple.status_code == 200, simple.text
        assert simple.headers["access-control-allow-origin"] == "https://app.example"


def test_every_retry_of_a_backend_that_is_not_ready_says_all_it_tried(repo_id, tmp_path):
    # The Hub is down and there is no cache nor bundled release: each retry runs the whole
    # chain again, so the reason keeps naming all three, not only the Hub's error.
    settings = hub_settings(f"http://127.0.0.1:{free_port()}", repo_id, tmp_path)
    with serving(create_app(settings)) as client:
        def reason() -> str:
            return client.get("/ready").json()["reason"]

        assert "retrying in 1 s" in reason()
        assert wait_for(lambda: "retrying in 2 s" in reason(), timeout=30)  # after one retry
        after_retry = reason()
    for tried in ("did not answer", "cache: no cached release", "bundled: no bundled release",
                  "hint: start the Hub or fix HF_ENDPOINT"):
        assert tried in after_retry, after_retry
