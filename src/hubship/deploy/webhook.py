"""Webhook: ask the running backend to reload, with no restart (`POST /admin/reload`).

The request has no body: the backend reloads the revision it watches (MODEL_REVISION, `main` by
default), so it keeps following the Hub (polling, webhooks, the older-release guard). Sending
`{"revision": sha}` would pin it to that sha for good. The backend answers once the release is
loaded and swapped in, with the sha it now serves, which must be the one we published: anything
else (a newer release, a pinned revision) is a failure that says what it serves.
Behind a load balancer this reaches ONE replica: with several, deploy by restart (railway,
render) or let every replica poll the Hub, and verify with `--replicas`.
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from hubship.config import Settings
from hubship.deploy._http import (
    DEFAULT_RETRY,
    Endpoint,
    RetryPolicy,
    body_excerpt,
    http_client,
    post,
)
from hubship.deploy.result import DeployResult, required
from hubship.deploy.verify import describe, served_version, serves
from hubship.serving.answers import ReloadAnswer

NEEDED_BY = "DEPLOY_TARGET=webhook"

AUTH_HINT = (
    "ADMIN_TOKEN differs from the backend's: set the GitHub secret ADMIN_TOKEN to the value of "
    "the backend's ADMIN_TOKEN variable (in Railway, Render or your .env)"
)
STATUS_HINTS = {
    404: "the reload route is off while the backend has no ADMIN_TOKEN: set it in the "
    "backend's environment; also check that BACKEND_URL is the backend, not the frontend",
    409: "the backend kept its current release; the detail above says why it could not load "
    "the new one",
}


def trigger(
    settings: Settings,
    *,
    sha: str,
    client: httpx.Client | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> DeployResult:
    backend = required(settings.backend_url, "BACKEND_URL", needed_by=NEEDED_BY).rstrip("/")
    token = required(settings.admin_token, "ADMIN_TOKEN", needed_by=NEEDED_BY)
    url = f"{backend}/admin/reload"
    endpoint = Endpoint("the backend", url, AUTH_HINT, settings.secrets(), STATUS_HINTS)
    with http_client(client) as http:
        response = post(http, endpoint, url, retry=retry,
                        headers={"Authorization": f"Bearer {token}"})
        try:
            answer: ReloadAnswer | None = ReloadAnswer.model_validate_json(response.content)
        except ValidationError:
            answer = None
        if answer is None or not serves(answer, sha):
            version = served_version(backend, client=http)
            now = describe(version) if version else str(answer and answer.sha or "nothing")
            watched = f", watching revision {version.revision!r}" if (
                version and version.revision) else ""
            raise endpoint.error(
                f"the backend reloaded the revision it watches and serves {now}{watched}, "
                f"not {sha}: {body_excerpt(response)}",
                hint="the backend serves what MODEL_REVISION (or an earlier pinned reload) "
                "names: set it to main and check HF_REPO_ID. If it serves a NEWER release, "
                "this deploy is stale: a re-run never rolls back, use `hubship rollback`",
            )
    previous = answer.previous_sha
    if answer.status == "unchanged":
        detail = f"the backend already served {sha[:12]}"
    elif previous:
        detail = f"the backend reloaded {previous[:12]} -> {sha[:12]}"
    else:
        detail = f"the backend loaded {sha[:12]}, its first release (it served none before)"
    return DeployResult("webhook", sha, True, detail, None)
