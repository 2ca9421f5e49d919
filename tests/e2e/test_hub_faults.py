"""The embedded hub killed (SIGKILL) and restarted on the same port and data dir, again and
again, while a real backend serves a steady predict load and reloads, and while the real
publisher (`scripts/upload_models.py`, on the releases `models/train.py` made for the
session's `real_releases`) is in flight.

What counts as a failure, decided here:
- predict: once the backend was ready (checked before the load starts), EVERY predict must be a
  200 naming a release that was published whole (v1's or v2's commit); a 5xx, any other status
  or a connection error to the backend fails. The hub being down is not an excuse: the backend
  keeps serving what it loaded.
- reload (`/admin/reload` every 0.5 s, besides MODEL_POLL_SECONDS=1 polls): may fail while the
  hub is down, as documented (502 unreachable, 409 refused), and the current release stays;
  any other answer (a 500) or no answer fails the test.
- the publisher: one that dies with the hub may exit non-zero, but what it leaves is either its
  whole commit or nothing (main at v1, no new tag), and a retry succeeds (tagging an untagged
  head it left, or publishing anew).

Five kills: one while only the backend reads, one with the publisher's commit transaction
open (the hub's test-only pause, HUBSHIP_HUB_TEST_PAUSE_BEFORE_COMMIT, holds it there), two
more while only the backend reads (its polls, reloads and load go on), and one right after the
publisher's commit was answered (its tag may or may not be made: a race this test does not
decide; both outcomes are checked). After each restart the SQLite file passes
`PRAGMA integrity_check` and the release invariants hold; at the end every file of every commit
downloads byte-exact, and a reload serves the head of main, named by its tag.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download

from hubship.hub.app import PAUSE_LOG_LINE, TEST_PAUSE_BEFORE_COMMIT_ENV
from hubship.hub.blobs import git_blob_oid
from hubship.manifest import Manifest
from hubship.services import Service, free_port, hub_service
from tests.support.real_releases import CI_VARIABLES, SPECIES_RECORD, RealReleases

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REPO = "lab/penguins"
ADMIN_TOKEN = "fault-admin-token"
HUB_TOKEN = "test-token"  # the hub runs without --token: any token is accepted for writes


# -- the publisher -------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in CI_VARIABLES} | extra


def _start_publish(assets: Path, hub_url: str, work: Path) -> subprocess.Popen[str]:
    """`python scripts/upload_models.py` (= `hubship publish`) on `assets`, in the background."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "upload_models.py")], cwd=work,
        env=_env(HUBSHIP_ASSETS_DIR=str(assets), HF_ENDPOINT=hub_url, HF_TOKEN=HUB_TOKEN,
                 HF_REPO_ID=REPO, HUBSHIP_HOME=str(work / "publisher-home"), COLUMNS="200"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _finish(publisher: subprocess.Popen[str]) -> tuple[int, str]:
    output, _ = publisher.communicate(timeout=300)
    return publisher.returncode, output


# -- the hub that dies -----------------------------------------------------------------------


class FaultyHub:
    """`hubship hub` on one port and data dir, killed and started again at will."""

    def __init__(self, data_dir: Path, logs: Path) -> None:
        self.data_dir, self.logs, self.port = data_dir, logs, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service: Service | None = None
        self.starts = 0

    def start(self, **env: str) -> None:
        self.starts += 1
        self.service = hub_service(self.data_dir, port=self.port,
                                   log_path=self.logs / f"hub-{self.starts}.log")
        self.service.env.update(env)
        self.service.start(timeout=60)

    def kill(self) -> None:
        assert self.service is not None
        self.service.kill()

    def log(self) -> str:
        assert self.service is not None and self.service.log_path is not None
        return self.service.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, *, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.log()):
            assert time.monotonic() < deadline, f"the hub never logged {pattern!r}"
            time.sleep(0.01)

    def integrity(self) -> str:
        with sqlite3.connect(f"file:{self.data_dir / 'hub.sqlite3'}?mode=ro", uri=True) as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0]

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()


# -- the traffic the backend sees ------------------------------------------------------------


class Traffic:
    """A steady predict load and a reload every `reload_every` s, each from its own thread."""

    def __init__(self, backend_url: str, *, reload_every: float = 0.5) -> None:
        self.url, self.reload_every = backend_url, reload_every
        self.predicts: Counter[str] = Counter()  # "200 <sha>", "503", "error: ConnectError"
        self.reloads: Counter[str] = Counter()
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self._predict, daemon=True),
                        threading.Thread(target=self._reload, daemon=True)]

    def _predict(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self.stop_event.is_set():
                try:
                    answer = client.post(f"{self.url}/models/species/predict",
                                         json=SPECIES_RECORD)
                    key = str(answer.status_code)
                    if answer.status_code == 200:
                        key += " " + answer.json()["sha"]
                except httpx.HTTPError as exc:
                    key = f"error: {type(exc).__name__}"
                self.predicts[key] += 1
                time.sleep(0.01)

    def _reload(self) -> None:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(timeout=120) as client:
            while not self.stop_event.wait(self.reload_every):
                try:
                    key = str(client.post(f"{self.url}/admin/reload", headers=headers)
                              .status_code)
                except httpx.HTTPError as exc:
                    key = f"error: {type(exc).__name__}"
                self.reloads[key] += 1

    def __enter__(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(180)


# -- what must hold after every restart ------------------------------------------------------


def _check_release_state(api: HfApi, hub: FaultyHub, published: dict[int, str],
                         assets: dict[int, Path]) -> str:
    """The invariants after a restart; returns the head of main.

    main is at a published release (v1), or at a new commit holding release 2 whole (its
    manifest's every file present with its recorded size and sha256); every v<N> tag points at
    a commit whose manifest says release N; no tag beyond v2."""
    assert hub.integrity() == "ok"
    head = api.model_info(REPO).sha
    assert head is not None
    tags = {ref.name: ref.target_commit for ref in api.list_repo_refs(REPO).tags}
    assert set(tags) <= {"v1", "v2"}, tags
    assert tags["v1"] == published[1]
    if head != published[1]:  # the publisher's commit landed: it must be whole
        folder = Path(api.snapshot_download(REPO, revision=head,
                                            local_dir=hub.logs / f"head-{head}"))
        manifest = Manifest.read(folder)
        assert manifest.release == 2
        assert manifest.model_hashes() == Manifest.read(assets[2]).model_hashes()
        manifest.verify_files(folder)
    for name, sha in tags.items():
        manifest_path = hf_hub_download(REPO, "manifest.json", revision=sha,
                                        endpoint=hub.url, cache_dir=hub.logs / "tag-cache")
        assert Manifest.read(Path(manifest_path).parent).release == int(name[1:])
    return head


def _assert_every_file_downloads_byte_exact(api: HfApi, hub: FaultyHub,
                                            assets: dict[int, Path]) -> int:
    """Every file of every commit on main, downloaded, is the blob the hub lists (git blob
    sha1 and size), and every model and holdout set is byte for byte the one train.py wrote."""
    checked = 0
    for commit in api.list_repo_commits(REPO):
        entries = [e for e in api.list_repo_tree(REPO, revision=commit.commit_id, recursive=True)
                   if hasattr(e, "blob_id")]
        folder = Path(api.snapshot_download(REPO, revision=commit.commit_id,
                                            local_dir=hub.logs / f"commit-{commit.commit_id}"))
        for entry in entries:
            data = (folder / entry.path).read_bytes()
            assert (len(data), git_blob_oid(data)) == (entry.size, entry.blob_id), entry.path
            checked += 1
        if (folder / "manifest.json").is_file():
            manifest = Manifest.read(folder)
            trained = next(a for a in assets.values()
                           if Manifest.read(a).model_hashes() == manifest.model_hashes())
            for ref in manifest.files():
                assert (folder / ref.file).read_bytes() == (trained / ref.file).read_bytes()
    return checked


def test_the_hub_dies_and_comes_back_while_the_backend_serves_and_a_publish_is_in_flight(
    real_releases: RealReleases, tmp_path: Path,
):
    # what models/train.py wrote for v1, and for v2 after a data push (tests/real_releases.py)
    assets = {number: real_releases[number].assets for number in (1, 2)}
    hub = FaultyHub(tmp_path / "hub-data", tmp_path)
    hub.start()
    api = HfApi(endpoint=hub.url, token=HUB_TOKEN)
    api.create_repo(REPO)  # public: the backend reads it without a token
    code, output = _finish(_start_publish(assets[1], hub.url, tmp_path))
    assert code == 0, output
    published = {1: api.model_info(REPO).sha}
    backend_port = free_port()
    backend = Service(
        "backend", [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
                    "--port", str(backend_port), "--no-access-log"],
        url=f"http://127.0.0.1:{backend_port}", health_url=f"http://127.0.0.1:{backend_port}/health",
        cwd=ROOT, log_path=tmp_path / "backend.log",
        env={"HF_ENDPOINT": hub.url, "HF_REPO_ID": REPO, "ADMIN_TOKEN": ADMIN_TOKEN,
             "MODEL_POLL_SECONDS": "1", "HUBSHIP_HOME": str(tmp_path / "backend-home"),
             "HUBSHIP_ASSETS_DIR": str(tmp_path / "no-bundled-release"),
             "HF_HUB_DISABLE_TELEMETRY": "1"},
    )
    outcomes = []
    try:
        backend.start(timeout=60)
        deadline = time.monotonic() + 120
        while httpx.get(f"{backend.url}/ready", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "the backend never became ready"
            time.sleep(0.1)
        with Traffic(backend.url) as traffic:
            # 1. the hub dies with the publisher's commit transaction open
            hub.kill()
            hub.start(**{TEST_PAUSE_BEFORE_COMMIT_ENV: "300"})
            publisher = _start_publish(assets[2], hub.url, tmp_path)
            hub.wait_for_log(re.escape(PAUSE_LOG_LINE))
            hub.kill()
            code, output = _finish(publisher)
            outcomes.append(("killed in the commit transaction", code))
            assert code != 0, output  # its commit never reached the hub's disk
            hub.start()
            assert _check_release_state(api, hub, published, assets) == published[1]

            # 2. kills while only the backend reads (its polls, reloads and the load go on)
            for pause in (0.2, 1.0):
                time.sleep(pause)
                hub.kill()
                time.sleep(0.5)  # down for a while: polls and reloads fail meanwhile
                hub.start()
                assert _check_release_state(api, hub, published, assets) == published[1]

            # 3. the hub dies just after the publisher's commit was answered
            publisher = _start_publish(assets[2], hub.url, tmp_path)
            hub.wait_for_log(rf"POST /api/models/{re.escape(REPO)}/commit/main 200")
            hub.kill()
            code, output = _finish(publisher)
            hub.start()
            head = _check_release_state(api, hub, published, assets)
            assert head != published[1]  # the commit was answered: it is on disk, whole
            tagged = any(ref.name == "v2" for ref in api.list_repo_refs(REPO).tags)
            outcomes.append(("killed after the commit", code, "tagged" if tagged else "untagged"))

            # 4. the retry: tags an untagged head, or finds v2 already published
            code, output = _finish(_start_publish(assets[2], hub.url, tmp_path))
            assert code == 0, output
            tags = {ref.name: ref.target_commit for ref in api.list_repo_refs(REPO).tags}
            assert tags == {"v1": published[1], "v2": head}, tags
            published[2] = head
            time.sleep(1.0)  # the load goes on against the restarted hub
        # the head release, served once the hub is back
        reloaded = httpx.post(f"{backend.url}/admin/reload", timeout=120,
                              headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert reloaded.status_code == 200, reloaded.text
        version = httpx.get(f"{backend.url}/version", timeout=30).json()
        assert (version["sha"], version["tag"]) == (api.model_info(REPO).sha, "v2")
        assert version["sha"] == published[2]
        answer = httpx.post(f"{backend.url}/models/species/predict", json=SPECIES_RECORD,
                            timeout=60)
        assert (answer.status_code, answer.json()["sha"]) == (200, published[2])
        assert hub.integrity() == "ok"
        assert _assert_every_file_downloads_byte_exact(api, hub, assets) > 0
    finally:
        backend.stop()
        hub.stop()

    print(f"predicts {dict(traffic.predicts)}; reloads {dict(traffic.reloads)}; "
          f"publishes {outcomes}; hub starts {hub.starts}")
    served = {f"200 {published[1]}", f"200 {published[2]}"}
    assert set(traffic.predicts) <= served, dict(traffic.predicts)
    assert sum(traffic.predicts.values()) >= 50, dict(traffic.predicts)  # a steady load ran
    assert set(traffic.reloads) <= {"200", "409", "502"}, dict(traffic.reloads)
    assert traffic.reloads["502"] > 0, dict(traffic.reloads)  # some ran while the hub was down
