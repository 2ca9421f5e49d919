"""/releases and the Hub: one read per HUBSHIP_RELEASES_CACHE_SECONDS and per release served,
whatever the traffic; a rate limit is "the Hub did not answer" (retried, never remembered), a
refused read leaves a release out of that answer only."""

from __future__ import annotations

import time

import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from hubship.config import Settings
from hubship.errors import HubUnreachableError
from hubship.hub_client import BACKEND_HINTS, hub_error
from hubship.serving.app import create_app
from tests.support.backend import ADMIN_TOKEN, serving, wait_for


@pytest.fixture(autouse=True)
def _model_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """HUBSHIP_INFERENCE_WORKERS=0 for the Settings made here: these tests read /releases, not
    the engine, so no inference process is started per app."""
    monkeypatch.setenv("HUBSHIP_INFERENCE_WORKERS", "0")


def _http_error(status: int) -> HfHubHTTPError:
    request = httpx2.Request("GET", "http://hub.test/api/models/team/penguins")
    return HfHubHTTPError(f"{status} Client Error", response=httpx2.Response(status,
                                                                            request=request))


def test_a_rate_limit_or_a_timeout_is_the_hub_not_answering():
    for failure in (_http_error(429), _http_error(408), httpx2.ReadTimeout("timed out")):
        error = hub_error(failure, doing="resolving revision 'main'", endpoint="http://hub.test",
                          repo_id="team/penguins", hints=BACKEND_HINTS)
        assert isinstance(error, HubUnreachableError), failure


class FlakyApi(HfApi):
    """The real client; its first `failures` manifest downloads are refused (HTTP 403)."""

    def __init__(self, *args, failures: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.failures = failures

    def hf_hub_download(self, *args, **kwargs):
        if self.failures:
            self.failures -= 1
            raise _http_error(403)
        return super().hf_hub_download(*args, **kwargs)


def test_a_refused_manifest_read_is_asked_again(hub_url, repo_id, published, tmp_path):
    # no answer kept between requests (HUBSHIP_RELEASES_CACHE_SECONDS=0): the next request
    # reads the Hub again, and asks for the manifest the first one could not read
    settings = Settings(hf_endpoint=hub_url, hf_repo_id=repo_id, hubship_home=tmp_path,
                        HUBSHIP_ASSETS_DIR=tmp_path / "no-assets",
                        HUBSHIP_RELEASES_CACHE_SECONDS=0)
    api = FlakyApi(endpoint=hub_url, token=False, failures=1)
    with serving(create_app(settings, hf_api=api)) as client:
        assert client.get("/releases").json() == []  # v1 left out of this answer only
        assert [r["sha"] for r in client.get("/releases").json()] == [published[1]]


def test_anonymous_history_reads_do_not_multiply_hub_requests(hub_url, hub_log, hf_api, repo_id,
                                                              published, push_release,
                                                              tmp_path):
    def refs_requests() -> int:  # what the Hub itself logged for this repo
        return hub_log.read_text().count(f"GET /api/models/{repo_id}/refs ")

    settings = Settings(hf_endpoint=hub_url, hf_repo_id=repo_id, hubship_home=tmp_path,
                        HUBSHIP_ASSETS_DIR=tmp_path / "no-assets", admin_token=ADMIN_TOKEN,
                        HUBSHIP_RELEASES_CACHE_SECONDS=60)
    with serving(create_app(settings, hf_api=hf_api)) as client:
        before = refs_requests()
        answers = [client.get("/releases") for _ in range(100)]
        assert {a.status_code for a in answers} == {200}
        assert {tuple(r["tag"] for r in a.json()) for a in answers} == {("v1",)}
        assert refs_requests() == before + 1

        push_release(2)  # not served yet: the kept answer stands
        assert [r["tag"] for r in client.get("/releases").json()] == ["v1"]
        reload = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert reload.json()["status"] == "reloaded"
        reloaded = refs_requests()  # the reload read the refs too (the tag of what it loaded)
        assert [r["tag"] for r in client.get("/releases").json()] == ["v2", "v1"]
        for _ in range(20):
            client.get("/releases")
        assert refs_requests() == reloaded + 1

    short = Settings(hf_endpoint=hub_url, hf_repo_id=repo_id, hubship_home=tmp_path / "short",
                     HUBSHIP_ASSETS_DIR=tmp_path / "no-assets",
                     HUBSHIP_RELEASES_CACHE_SECONDS=0.2)
    with serving(create_app(short, hf_api=hf_api)) as client:
        client.get("/releases")
        first = refs_requests()
        time.sleep(0.3)  # the kept answer is stale: the next request reads the Hub again
        client.get("/releases")
        assert wait_for(lambda: refs_requests() == first + 1, timeout=5)
