"""Render: POST the service's deploy hook.

The hook is a secret URL (`https://api.render.com/deploy/srv-...?key=...`): anyone holding it
can deploy, so it is shown only without its key. Render's answer names the deploy when it is
JSON (`{"deploy": {"id": "dep-..."}}`). The hook cannot pick a commit; the backend loads the
newest Hub release when it starts, which is what a model-only release needs.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import httpx

from hubship.config import Settings
from hubship.deploy._http import DEFAULT_RETRY, Endpoint, RetryPolicy, http_client, post
from hubship.deploy.result import DeployResult, required

NEEDED_BY = "DEPLOY_TARGET=render"

AUTH_HINT = (
    "RENDER_DEPLOY_HOOK is wrong or was regenerated: copy it again from Render "
    "(service -> Settings -> Deploy Hook) into the GitHub secret RENDER_DEPLOY_HOOK"
)


def display_url(hook: str) -> str:
    """The hook without its key, safe to print."""
    parts = urlsplit(hook)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "key=***" if parts.query else "",
                       ""))


def trigger(
    settings: Settings,
    *,
    sha: str,
    client: httpx.Client | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> DeployResult:
    hook = required(settings.render_deploy_hook, "RENDER_DEPLOY_HOOK", needed_by=NEEDED_BY)
    if urlsplit(hook).scheme not in ("http", "https"):
        raise endpoint_for(settings, hook).error(
            "RENDER_DEPLOY_HOOK is not a URL",
            hint="set it to the full deploy hook URL Render shows, "
            "https://api.render.com/deploy/srv-...?key=...",
        )
    endpoint = endpoint_for(settings, hook)
    with http_client(client) as http:
        response = post(http, endpoint, hook, retry=retry)
    deploy_id = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("deploy"), dict):
        deploy_id = body["deploy"].get("id")
    detail = f"Render started deploy {deploy_id}" if deploy_id else "Render accepted the deploy"
    return DeployResult("render", sha, True, detail, deploy_id)


def endpoint_for(settings: Settings, hook: str) -> Endpoint:
    return Endpoint("Render", display_url(hook), AUTH_HINT, [hook, *settings.secrets()])
