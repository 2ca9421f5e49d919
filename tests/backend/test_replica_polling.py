"""One backend among several replicas: its name on /version, the poll's jitter, and the one
HEAD a poll costs (`HubClient.head_commit`, in the Hub gateway). Three replicas behind nginx:
tests/e2e/test_replicas.py."""

from __future__ import annotations

import os
import random
import re
import socket
import time
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from hubship.config import Settings
from hubship.errors import HubUnreachableError, RepoNotFound, RevisionNotFound
from hubship.hub_client import BACKEND_HINTS, HubClient
from hubship.services import free_port
from hubship.serving.app import create_app
from hubship.serving.replicas import JITTER, first_poll_delay, poll_delay, replica_id
from tests.support.backend import serving, wait_for

LOGGED = re.compile(r"hubship\.hub ([A-Z]+) (\S+) ")  # a request in the hub's log


@pytest.fixture
def no_host_ids(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("RAILWAY_REPLICA_ID", "RENDER_INSTANCE_ID"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_replica_is_named_by_the_host_else_by_hostname_and_pid(no_host_ids):
    assert replica_id() == f"{socket.gethostname()}-{os.getpid()}"
    no_host_ids.setenv("RENDER_INSTANCE_ID", "srv-abc-5f7d9")
    assert replica_id() == "srv-abc-5f7d9"
    no_host_ids.setenv("RAILWAY_REPLICA_ID", "92f1c0de-replica")
    assert replica_id() == "92f1c0de-replica"


def test_polls_spread_out_yet_never_wait_longer_than_the_interval():
    rng = random.Random(15)
    phases = [first_poll_delay(2.0, rng) for _ in range(200)]
    waits = [poll_delay(2.0, rng) for _ in range(200)]
    assert all(0 < p <= 2.0 for p in phases) and max(phases) - min(phases) > 1.5
    assert all(2.0 * (1 - JITTER) <= w <= 2.0 for w in waits)
    assert max(waits) - min(waits) > 0.3  # replicas started together drift apart


def hub_requests(hub_log: Path, repo_id: str, since: int) -> list[tuple[str, ...]]:
    """(method, path) of what the Hub logged for `repo_id` after its line `since`."""
    lines = hub_log.read_text().splitlines()[since:]
    return [m.groups() for m in map(LOGGED.search, lines) if m and repo_id in m[2]]


def test_the_gateway_reads_a_revision_s_commit_with_one_head(hf_api, hub_url, hub_log, repo_id,
                                                              published, tmp_path):
    settings = Settings(hf_endpoint=hub_url, hf_repo_id=repo_id, hubship_home=tmp_path)
    hub = HubClient.for_backend(settings, api=hf_api)
    since = len(hub_log.read_text().splitlines())
    assert hub.head_commit("main") == hub.head_commit("v1") == published[1]
    assert wait_for(lambda: len(hub_requests(hub_log, repo_id, since)) >= 2, timeout=5)
    assert hub_requests(hub_log, repo_id, since) == [
        ("HEAD", f"/{repo_id}/resolve/main/manifest.json"),
        ("HEAD", f"/{repo_id}/resolve/v1/manifest.json")]
    # mapped as every other Hub call is, with the backend's hints
    with pytest.raises(RevisionNotFound) as missing:
        hub.head_commit("no-such-branch")
    assert "MODEL_REVISION" in missing.value.hint
    with pytest.raises(RepoNotFound):
        HubClient(hf_api, f"{repo_id}-missing", hints=BACKEND_HINTS).head_commit("main")
    with pytest.raises(HubUnreachableError) as down:
        HubClient(HfApi(endpoint=f"http://127.0.0.1:{free_port()}"), repo_id,
                  hints=BACKEND_HINTS, retries=0).head_commit("main")
    assert "did not answer" in down.value.message and "HF_ENDPOINT" in down.value.hint


def test_version_names_the_replica_and_a_hub_that_fails_the_poll_costs_one_request(
        hf_api, hub_url, hub_log, repo_id, published, tmp_path, no_host_ids):
    no_host_ids.setenv("RAILWAY_REPLICA_ID", "replica-7")
    settings = Settings(hf_endpoint=hub_url, hf_repo_id=repo_id, hubship_home=tmp_path,
                        HUBSHIP_ASSETS_DIR=tmp_path / "no-assets", model_poll_seconds=0.2,
                        HUBSHIP_INFERENCE_WORKERS="0")
    with serving(create_app(settings, hf_api=hf_api)) as client:
        served = client.get("/version").json()
        assert (served["sha"], served["replica"]) == (published[1], "replica-7")
        assert served["hub_problem"] is None

        hub_endpoint, hf_api.endpoint = hf_api.endpoint, f"http://127.0.0.1:{free_port()}"
        assert wait_for(lambda: client.get("/version").json()["hub_problem"], timeout=10)
        down = client.get("/version").json()
        assert (down["sha"], down["replica"]) == (published[1], "replica-7")  # still serving
        # the poll's own HEAD said so: no second request (the full check) after it
        assert down["hub_problem"].startswith("checking manifest.json at 'main': the Hub at "
                                              "http://127.0.0.1:")
        assert "did not answer" in down["hub_problem"] and down["hub_problem_since"]

        hf_api.endpoint = hub_endpoint
        assert wait_for(lambda: client.get("/version").json()["hub_problem"] is None,
                        timeout=10)
        # between releases, each poll is one HEAD on the manifest: no API call, no download
        since = len(hub_log.read_text().splitlines())
        time.sleep(0.6)
        asked = hub_requests(hub_log, repo_id, since)
        assert set(asked) == {("HEAD", f"/{repo_id}/resolve/main/manifest.json")}, asked
