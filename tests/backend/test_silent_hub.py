"""A Hub that accepts connections and never answers: every Hub call times out
(HUBSHIP_HUB_TIMEOUT), which counts as "the Hub did not answer", so the fallback chain applies
and nothing waits forever. Real uvicorn processes, HTTP over loopback."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.backend import log_text
from tests.support.real_releases import SPECIES_RECORD


def _env(hub: str, home, **extra: str) -> dict[str, str]:
    return {"HF_ENDPOINT": hub, "HF_REPO_ID": "tests/silent", "HUBSHIP_HOME": str(home),
            "HUBSHIP_HUB_TIMEOUT": "1", **extra}


def _stops_cleanly(backend) -> None:
    """SIGTERM is enough (no SIGKILL after Service.stop's 10 s) and the lifespan finishes."""
    backend.stop()
    # uvicorn exits by re-raising the SIGTERM it handled once shut down
    assert backend.process.returncode in (0, -signal.SIGTERM)
    log = log_text(backend)
    assert "Application shutdown complete" in log and "Finished server process" in log


def test_a_silent_hub_falls_back_to_the_bundled_release(silent_hub, bundled, start_backend,
                                                        tmp_path):
    assets = bundled(1)
    backend = start_backend(_env(silent_hub, tmp_path / "home", HUBSHIP_ASSETS_DIR=str(assets)))
    version = httpx.get(f"{backend.url}/version").json()
    assert (version["source"], version["release"]) == ("bundled", 1)
    assert "timed out" in log_text(backend) and "trying the cached release" in log_text(backend)

    with httpx.Client(base_url=backend.url, timeout=30) as http, ThreadPoolExecutor(50) as pool:
        history = [pool.submit(http.get, "/releases") for _ in range(50)]
        assert http.get("/health").json() == {"status": "ok"}
        batch = http.post("/models/species/predict", json=[SPECIES_RECORD] * 100)
        assert batch.status_code == 200 and len(batch.json()["predictions"]) == 100
        answers = [future.result() for future in history]
    assert {answer.status_code for answer in answers} == {503}
    assert "did not answer" in answers[0].json()["detail"]
    assert "hint: check HF_ENDPOINT" in answers[0].json()["detail"]
    _stops_cleanly(backend)  # while the recovery loop is waiting on the silent Hub


def test_a_silent_hub_and_nothing_to_fall_back_on_is_not_ready(silent_hub, start_backend,
                                                               tmp_path):
    backend = start_backend(_env(silent_hub, tmp_path / "home"))
    assert httpx.get(f"{backend.url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{backend.url}/ready")
    assert ready.status_code == 503
    reason = ready.json()["reason"]
    assert "did not answer (timed out)" in reason and "no bundled release" in reason
    assert "hint: start the Hub or fix HF_ENDPOINT" in reason
    _stops_cleanly(backend)
