"""One backend among several replicas: its name on /version, the poll's jitter, and the one
HEAD a poll costs (`hubship.serving.replicas`). Three replicas behind nginx:
tests/e2e/test_replicas.py."""

from __future__ import annotations

import os
import random
import socket

import pytest

from hubship.config import Settings
from hubship.services import free_port
from hubship.serving.app import create_app
from hubship.serving.replicas import JITTER, first_poll_delay, head_sha, poll_delay, replica_id
from tests.support.backend import serving


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


def test_version_names_the_replica_and_a_poll_is_one_head(hf_api, hub_url, repo_id, published,
                                                          tmp_path, no_host_ids):
    no_host_ids.setenv("RAILWAY_REPLICA_ID", "replica-7")
    settings = Settings(hf_endpoint=hub_url, hf_repo_id=repo_id, hubship_home=tmp_path,
                        HUBSHIP_ASSETS_DIR=tmp_path / "no-assets")
    with serving(create_app(settings, hf_api=hf_api)) as client:
        served = client.get("/version").json()
    assert (served["sha"], served["replica"]) == (published[1], "replica-7")

    assert head_sha(hf_api, repo_id, "main") == published[1]
    assert head_sha(hf_api, repo_id, "v1") == published[1]
    # anything else: None, and the poll makes the full check, which says what is wrong
    assert head_sha(hf_api, repo_id, "no-such-branch") is None
    assert head_sha(hf_api, f"{repo_id}-missing", "main") is None
    from huggingface_hub import HfApi

    assert head_sha(HfApi(endpoint=f"http://127.0.0.1:{free_port()}"), repo_id, "main") is None
