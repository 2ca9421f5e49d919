"""The backend as users run it: a real uvicorn process, the local hub, HTTP over loopback."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from hubship.services import hub_service
from tests.support.backend import ADMIN_TOKEN, log_text
from tests.support.real_releases import BODY_MASS_RECORD, SPECIES_RECORD, replay


def _env(hub: str, repo_id: str, home: Path, **extra: str) -> dict[str, str]:
    return {"HF_ENDPOINT": hub, "HF_REPO_ID": repo_id, "HUBSHIP_HOME": str(home), **extra}


def test_serves_the_published_release_and_predicts_then_never_loads_an_altered_cache(
        hub_url, hf_api, repo_id, published, start_backend, tmp_path):
    home = tmp_path / "home"
    backend = start_backend(_env(hub_url, repo_id, home))
    ready = httpx.get(f"{backend.url}/ready").json()
    assert ready == {"ready": True, "sha": published[1]}
    version = httpx.get(f"{backend.url}/version").json()
    assert version["source"] == "hub" and version["tag"] == "v1" and version["release"] == 1
    assert version["commit_url"] == f"{hub_url}/{repo_id}/commit/{published[1]}"

    answer = httpx.post(f"{backend.url}/models/species/predict", json=SPECIES_RECORD).json()
    assert answer["sha"] == published[1] and answer["release"] == 1
    assert answer["prediction"]["label"] == "Adelie"
    assert abs(sum(answer["prediction"]["probabilities"].values()) - 1) < 1e-9
    mass = httpx.post(f"{backend.url}/models/body_mass/predict", json=[BODY_MASS_RECORD]).json()
    assert mass["predictions"][0]["unit"] == "g" and mass["predictions"][0]["value"] > 1000

    releases = httpx.get(f"{backend.url}/releases").json()
    assert [(r["tag"], r["sha"]) for r in releases] == [("v1", published[1])]
    assert releases[0]["primary"]["species"]["name"] == "f1_macro"  # models/train.py's
    metrics = httpx.get(f"{backend.url}/metrics").text
    assert 'hubship_predict_requests_total{model="species",status="200"} 1.0' in metrics
    assert f'sha="{published[1]}"' in metrics
    backend.stop()

    # restarted with a cached model file altered on disk: it is rejected and downloaded again
    [cached] = home.glob(f"backend-cache/*/snapshots/{published[1]}/models/species.joblib")
    cached.resolve().write_bytes(cached.read_bytes()[:-8] + b"tampered")
    second = start_backend(_env(hub_url, repo_id, home))
    log = log_text(second)
    assert "models/species.joblib: sha256" in log and "cached file rejected" in log
    version = httpx.get(f"{second.url}/version").json()
    assert (version["source"], version["sha"]) == ("hub", published[1])  # downloaded again
    assert not cached.read_bytes().endswith(b"tampered")
    assert httpx.post(f"{second.url}/models/species/predict",
                      json=SPECIES_RECORD).status_code == 200


def test_hub_down_serves_the_cache_then_bundled_then_not_ready(real_releases, bundled,
                                                               start_backend, tmp_path):
    # A hub of its own, to stop it; the real releases on it, as their publish made them.
    hub = hub_service(tmp_path / "hub-data", log_path=tmp_path / "hub.log").start()
    repo_id = "tests/offline"
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub.url, token="t")
    v1 = replay(api, repo_id, real_releases[1])
    home = tmp_path / "home"
    first = start_backend(_env(hub.url, repo_id, home, ADMIN_TOKEN=ADMIN_TOKEN))
    assert httpx.get(f"{first.url}/version").json()["sha"] == v1
    sha = replay(api, repo_id, real_releases[2])  # the last release it loads: v2
    reload = httpx.post(f"{first.url}/admin/reload", timeout=60,
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert reload.json()["sha"] == sha
    assert httpx.get(f"{first.url}/version").json()["source"] == "hub"
    first.stop()
    hub.stop()

    # restarted while the Hub is down, with no bundled release: what it last loaded, cached
    cached = start_backend(_env(hub.url, repo_id, home))
    version = httpx.get(f"{cached.url}/version").json()
    assert (version["source"], version["sha"]) == ("cache", sha)
    assert (version["tag"], version["release"]) == ("v2", 2)
    answer = httpx.post(f"{cached.url}/models/species/predict", json=SPECIES_RECORD)
    assert answer.status_code == 200 and answer.json()["sha"] == sha
    assert f"serving the cache release {sha}" in log_text(cached)
    cached.stop()

    assets = bundled(2)
    bundled_backend = start_backend(_env(hub.url, repo_id, tmp_path / "empty-home",
                                         HUBSHIP_ASSETS_DIR=str(assets)))
    version = httpx.get(f"{bundled_backend.url}/version").json()
    assert (version["source"], version["sha"], version["release"]) == ("bundled", None, 2)
    assert httpx.post(f"{bundled_backend.url}/models/species/predict",
                      json=SPECIES_RECORD).status_code == 200
    bundled_backend.stop()

    nothing = start_backend(_env(hub.url, repo_id, tmp_path / "empty-home-2"))
    assert httpx.get(f"{nothing.url}/health").status_code == 200
    ready = httpx.get(f"{nothing.url}/ready")
    assert ready.status_code == 503
    assert "did not answer" in ready.json()["reason"] and "retrying" in ready.json()["reason"]
    assert httpx.post(f"{nothing.url}/models/species/predict",
                      json=SPECIES_RECORD).status_code == 503


def test_reload_under_load_drops_no_request(hub_url, repo_id, published, push_release,
                                            start_backend, tmp_path):
    backend = start_backend(_env(hub_url, repo_id, tmp_path / "home", ADMIN_TOKEN=ADMIN_TOKEN))
    failures: list[str] = []
    shas: set[str] = set()
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=backend.url, timeout=30) as http:
            while not stop.is_set():
                response = http.post("/models/species/predict", json=SPECIES_RECORD)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text}")
                else:
                    shas.add(response.json()["sha"])

    workers = [threading.Thread(target=client) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        new_sha = push_release(2)
        wrong = httpx.post(f"{backend.url}/admin/reload",
                           headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        reload = httpx.post(f"{backend.url}/admin/reload", timeout=60,
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert reload.json() == {"status": "reloaded", "sha": new_sha,
                                 "previous_sha": published[1]}
        again = httpx.post(f"{backend.url}/admin/reload", timeout=60,
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert again.json()["status"] == "unchanged"
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert failures == []
    assert shas == {published[1], new_sha}
    version = httpx.get(f"{backend.url}/version").json()
    assert (version["sha"], version["tag"], version["release"]) == (new_sha, "v2", 2)
    assert ADMIN_TOKEN not in log_text(backend)
