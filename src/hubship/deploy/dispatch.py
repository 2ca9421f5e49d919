"""`trigger`: start a deploy on the host DEPLOY_TARGET names; `already_serving`: whether
production serves a release already, so the deploy can be skipped."""

from __future__ import annotations

import httpx

from hubship.config import Settings
from hubship.deploy import railway, render, webhook
from hubship.deploy._http import DEFAULT_RETRY, RetryPolicy
from hubship.deploy.result import DeployResult
from hubship.deploy.verify import served_version, serves


def trigger(
    settings: Settings,
    *,
    sha: str,
    commit_sha: str | None = None,
    client: httpx.Client | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> DeployResult:
    """Start a deploy of release `sha` (the Hub commit) on `settings.deploy_target`.

    `commit_sha` is the code's git commit; only Railway can deploy a given commit, the other
    targets ignore it. Raises ConfigError when a setting is missing, DeployError when the host
    refuses or does not answer. A started deploy is not a live release: call `verify_live`.
    """
    target = settings.deploy_target
    if target == "railway":
        return railway.trigger(settings, sha=sha, commit_sha=commit_sha, client=client,
                               retry=retry)
    if target == "render":
        return render.trigger(settings, sha=sha, client=client, retry=retry)
    if target == "webhook":
        return webhook.trigger(settings, sha=sha, client=client, retry=retry)
    return DeployResult(
        "none", sha, False,
        "DEPLOY_TARGET=none: nothing to trigger (the backend must pick the release up itself, "
        "e.g. by polling the Hub)",
    )


def already_serving(
    settings: Settings, *, sha: str, client: httpx.Client | None = None
) -> dict[str, object] | None:
    """Production's `/version` answer when BACKEND_URL is set and it serves `sha`, else None
    (also when it does not answer: then only a deploy, and verify, can tell)."""
    if not settings.backend_url:
        return None
    version = served_version(settings.backend_url, client=client)
    return version if serves(version, sha) else None
