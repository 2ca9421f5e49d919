"""What happens while something else is in flight: a slow first load, a reload racing a pinned
reload, a release swapped under a running request. In process, against the session's local hub
with the real client; the Hub (or the model) pauses at the moment the test chooses."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType

import orjson
from fastapi.testclient import TestClient
from huggingface_hub import HfApi

from hubship.config import Settings
from hubship.serving.app import create_app
from hubship.serving.replicas import replica_id
from tests.support.backend import ADMIN_TOKEN, GatedEstimator, PausingApi, serving, wait_for
from tests.support.real_releases import SPECIES_RECORD

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def hub_settings(endpoint: str, repo_id: str, home: Path, **extra) -> Settings:
    return Settings(hf_endpoint=endpoint, hf_repo_id=repo_id, hubship_home=home,
                    HUBSHIP_ASSETS_DIR=home / "no-assets", admin_token=ADMIN_TOKEN, **extra)


def test_health_answers_while_the_first_release_loads(hub_url, repo_id, published, tmp_path):
    api = PausingApi(endpoint=hub_url, token=False, revision="main")
    app = create_app(hub_settings(hub_url, repo_id, tmp_path), hf_api=api)
    with TestClient(app) as client:  # the lifespan returns while the Hub has not answered
        assert api.paused.wait(30)
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json() == {"ready": False, "reason": "loading the first release"}
        version = client.get("/version")  # names the replica that has nothing yet
        assert version.status_code == 503
        assert version.json() == {"ready": False, "reason": "loading the first release",
                                  "replica": replica_id(), "revision": "main"}

        api.resume.set()
        client.portal.call(app.state.reloader.loaded)
        assert client.get("/ready").json() == {"ready": True, "sha": published[1]}


def test_a_reload_waiting_behind_a_pin_follows_the_pin(hub_url, repo_id, published,
                                                       push_release, tmp_path):
    v2 = push_release(2)
    api = PausingApi(endpoint=hub_url, token=False, revision="v1")
    settings = hub_settings(hub_url, repo_id, tmp_path, hf_webhook_secret="s3cret")
    with serving(create_app(settings, hf_api=api)) as client, ThreadPoolExecutor(1) as pool:
        assert client.get("/version").json()["sha"] == v2
        pin = pool.submit(client.post, "/admin/reload", headers=AUTH, json={"revision": "v1"})
        assert api.paused.wait(30)  # the pinned reload holds the lock, resolving v1

        main_moved = {"event": {"action": "update", "scope": "repo.content"},
                      "repo": {"type": "model", "name": repo_id},
                      "updatedRefs": [{"ref": "refs/heads/main", "newSha": v2}]}
        hook = client.post("/hooks/huggingface", headers={"X-Webhook-Secret": "s3cret"},
                           json=main_moved)
        assert hook.json()["status"] == "reloading"  # queued behind the pin
        api.resume.set()

        assert pin.result().json() == {"status": "reloaded", "sha": published[1],
                                       "previous_sha": v2}
        assert wait_for(lambda: 'outcome="unchanged"} 1.0' in client.get("/metrics").text)
        version = client.get("/version").json()
        assert (version["sha"], version["tag"], version["revision"]) == (published[1], "v1",
                                                                         "v1")


def test_a_request_finishes_on_the_release_it_started_with(hub_url, hf_api, repo_id, published,
                                                           push_release, tmp_path):
    records = [SPECIES_RECORD] * 65
    # the inference worker as a thread of this process, so the test can hold the model running
    settings = hub_settings(hub_url, repo_id, tmp_path, HUBSHIP_INFERENCE_WORKERS="0")
    with serving(create_app(settings, hf_api=hf_api)) as client:
        state = client.app.state.serving
        v1 = state.active
        species = v1.predictors["species"]
        parsed, _ = species.parser.parse(orjson.dumps(records))
        v1_output = species.predict(parsed)
        gate = GatedEstimator(species.estimator)
        state.swap(dataclasses.replace(v1, predictors=MappingProxyType(
            {**v1.predictors, "species": dataclasses.replace(
                species, runner=dataclasses.replace(species.runner, estimator=gate))})))
        v2 = push_release(2)

        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(client.post, "/models/species/predict", json=records)
            assert gate.entered.wait(30)  # the model is running for this request
            reload = client.post("/admin/reload", headers=AUTH)
            assert reload.json() == {"status": "reloaded", "sha": v2,
                                     "previous_sha": published[1]}
            gate.go.set()
            answer = in_flight.result().json()

        assert (answer["sha"], answer["release"]) == (published[1], 1)
        assert answer["predictions"] == v1_output
        assert gate.assume_finite is True  # the worker thread skips scikit-learn's NaN scan

        after = client.post("/models/species/predict", json=records).json()
        v2_output = state.active.predictors["species"].predict(parsed)
        assert (after["sha"], after["release"]) == (v2, 2)
        assert after["predictions"] == v2_output != v1_output


def test_history_reads_waiting_on_a_slow_hub_hold_no_worker_thread(hub_url, repo_id, published,
                                                                    tmp_path):
    """More /releases calls than the worker pool has threads (40) wait on one slow Hub read,
    and a batch prediction (in the inference process, no worker thread) still answers."""
    api = HfApi(endpoint=hub_url, token=False)
    list_repo_refs, reading, go = api.list_repo_refs, threading.Event(), threading.Event()

    def slow_refs(*args, **kwargs):
        reading.set()
        assert go.wait(60)
        return list_repo_refs(*args, **kwargs)

    batch = [SPECIES_RECORD] * 65
    with serving(create_app(hub_settings(hub_url, repo_id, tmp_path), hf_api=api)) as client, \
            ThreadPoolExecutor(50) as pool:
        api.list_repo_refs = slow_refs  # once loaded (the first load reads the refs too)
        history = [pool.submit(client.get, "/releases") for _ in range(50)]
        assert reading.wait(30)
        predicted = client.post("/models/species/predict", json=batch)
        go.set()
        answers = [future.result() for future in history]
    assert predicted.status_code == 200 and len(predicted.json()["predictions"]) == len(batch)
    assert {answer.status_code for answer in answers} == {200}
    assert {answer.json()[0]["sha"] for answer in answers} == {published[1]}
