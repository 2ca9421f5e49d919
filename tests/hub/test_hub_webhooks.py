"""The hub sends huggingface.co's repo webhooks (`hubship hub --webhook URL --webhook-secret S`)
after each update is durable, retries failed deliveries, and never slows a commit; a publish
reaches a real backend through its `/hooks/huggingface` route, with no `hubship deploy`."""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from hubship.services import Service, free_port
from tests.support.release_builder import BACKEND_MODELS, build_release, publish_release

ROOT = Path(__file__).resolve().parents[2]
SECRET = "webhook-secret-for-tests"
REPO = "team/models"


class Receiver:
    """A webhook target: records each POST; answers `statuses` in turn (then 200), the first
    one after `delay` seconds (the hub delivers one at a time: a target slow every time would
    hold every later delivery back)."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0) -> None:
        self.received: list[tuple[dict[str, str], dict]] = []
        self.statuses, self.delay = list(statuses or []), delay
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                receiver.delay = 0
                receiver.received.append((dict(self.headers), json.loads(body)))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 20) -> list[tuple[dict[str, str], dict]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} webhooks"
            time.sleep(0.05)
        return self.received


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.server.shutdown()


def _webhook_args(*urls: str) -> list[str]:
    return [arg for url in urls for arg in ("--webhook", url)]


def test_each_update_posts_the_hubs_webhook_payload(start_hub, api_for, receivers):
    from huggingface_hub import WebhookPayload

    receiver = receivers()
    hub = start_hub(args=_webhook_args(receiver.url),
                    env={"HUBSHIP_HUB_WEBHOOK_SECRET": SECRET})
    api = api_for(hub.url)
    api.create_repo(REPO)
    start = api.model_info(REPO).sha
    commit = api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id=REPO)
    api.create_tag(REPO, tag="v1")

    (commit_headers, on_commit), (_, on_tag) = receiver.wait(2)
    assert commit_headers["X-Webhook-Secret"] == SECRET
    assert on_commit["event"] == {"action": "update", "scope": "repo.content"}
    assert on_commit["repo"]["name"] == REPO and on_commit["repo"]["type"] == "model"
    assert on_commit["repo"]["headSha"] == commit.oid
    assert on_commit["updatedRefs"] == [
        {"ref": "refs/heads/main", "oldSha": start, "newSha": commit.oid}]
    assert on_tag["updatedRefs"] == [{"ref": "refs/tags/v1", "oldSha": None,
                                      "newSha": commit.oid}]
    WebhookPayload.model_validate(on_commit)  # the shape huggingface_hub's own server parses
    assert SECRET not in Path(hub.log_path).read_text()


def test_a_down_or_slow_target_never_slows_a_commit_and_failures_are_retried(
    start_hub, api_for, receivers
):
    slow, flaky = receivers(delay=5), receivers(statuses=[503])
    down = f"http://127.0.0.1:{free_port()}/hook"
    hub = start_hub(args=_webhook_args(slow.url, down, flaky.url))
    api = api_for(hub.url)
    api.create_repo(REPO)  # no webhook: a new repo is not a content update

    started = time.monotonic()
    for n in range(3):
        api.upload_file(path_or_fileobj=str(n).encode(), path_in_repo="n.txt", repo_id=REPO)
    # 3 commits, made while the slow target holds the first delivery for 5 s
    assert time.monotonic() - started < 4

    flaky.wait(4, timeout=30)  # the 503 was retried: 3 deliveries + 1 retry
    newest = [body["repo"]["headSha"] for _, body in flaky.received]
    assert api.model_info(REPO).sha in newest
    log = Path(hub.log_path).read_text()
    assert "webhook to " + down + " failed (ConnectError); retrying" in log
    assert f"webhook to {flaky.url} failed (HTTP 503); retrying" in log


def test_a_publish_reloads_a_backend_through_the_hubs_webhook(start_hub, tmp_path):
    backend_port = free_port()
    backend_url = f"http://127.0.0.1:{backend_port}"
    hub = start_hub(args=_webhook_args(f"{backend_url}/hooks/huggingface"),
                    env={"HUBSHIP_HUB_WEBHOOK_SECRET": SECRET})
    repo_id = f"tests/webhook-{uuid.uuid4().hex[:8]}"
    backend = Service(
        "backend", [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
                    "--port", str(backend_port), "--no-access-log"],
        url=backend_url, health_url=f"{backend_url}/health", cwd=ROOT,
        env={"HF_ENDPOINT": hub.url, "HF_REPO_ID": repo_id, "HF_WEBHOOK_SECRET": SECRET,
             "HF_HUB_DISABLE_TELEMETRY": "1", "HUBSHIP_ASSETS_DIR": str(tmp_path / "none"),
             "HUBSHIP_HOME": str(tmp_path / "backend-home")},
        log_path=tmp_path / "backend.log",
    )
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub.url, token=False)
    backend.start(timeout=60)
    try:
        for release in (1, 2):
            release_dir = tmp_path / f"v{release}"
            build_release(release_dir, BACKEND_MODELS, release=release, flexibility=release)
            sha = publish_release(api, repo_id, release_dir, cache_dir=tmp_path / "cache")
            deadline = time.monotonic() + 60
            while httpx.get(f"{backend_url}/version").json().get("sha") != sha:
                assert time.monotonic() < deadline, Path(backend.log_path).read_text()
                time.sleep(0.1)
            assert httpx.get(f"{backend_url}/version").json()["tag"] == f"v{release}"
    finally:
        backend.stop()
    assert "webhook to " + backend_url + "/hooks/huggingface delivered (202)" in Path(
        hub.log_path).read_text()
