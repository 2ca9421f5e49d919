"""/releases and Hub answers that may pass: a rate limit is "the Hub did not answer" (retried,
never remembered), a refused read leaves a release out of this answer only."""

from __future__ import annotations

import httpx2
from backend_support import serving
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from hubship.config import Settings
from hubship.errors import HubUnreachableError
from hubship.hub_errors import BACKEND_HINTS, hub_error
from hubship.serving.app import create_app


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
    settings = Settings(hf_endpoint=hub_url, hf_repo_id=repo_id, hubship_home=tmp_path,
                        HUBSHIP_ASSETS_DIR=tmp_path / "no-assets")
    api = FlakyApi(endpoint=hub_url, token=False, failures=1)
    with serving(create_app(settings, hf_api=api)) as client:
        assert client.get("/releases").json() == []  # v1 left out of this answer only
        assert [r["sha"] for r in client.get("/releases").json()] == [published[1]]
