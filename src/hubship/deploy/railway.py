"""Railway: start a deployment through the public GraphQL API.

A project token goes in `Project-Access-Token` (account and team tokens would go in
`Authorization: Bearer`, which we do not use). GraphQL reports most failures as HTTP 200 with
an `errors` list, so the body is always checked.

By default `serviceInstanceRedeploy` redeploys the current deployment: the backend loads the
Hub's release when it starts, so that is all a model release needs, and it never moves the code
back. `serviceInstanceDeployV2(commitSha)` (opt-in: `--commit-sha`/HUBSHIP_DEPLOY_COMMIT)
deploys exactly one commit, which may be OLDER than what Railway runs now. Railway has been
seen to rebuild an old commit and still report success, which is why the loop always ends with
`verify_live`.
"""

from __future__ import annotations

import httpx

from hubship.config import Settings
from hubship.deploy._http import DEFAULT_RETRY, Endpoint, RetryPolicy, http_client, post
from hubship.deploy.result import DeployResult, required

NEEDED_BY = "DEPLOY_TARGET=railway"

DEPLOY_COMMIT = """\
mutation hubshipDeploy($serviceId: String!, $environmentId: String!, $commitSha: String) {
  serviceInstanceDeployV2(serviceId: $serviceId, environmentId: $environmentId, commitSha: $commitSha)
}"""  # noqa: E501

REDEPLOY = """\
mutation hubshipRedeploy($serviceId: String!, $environmentId: String!) {
  serviceInstanceRedeploy(serviceId: $serviceId, environmentId: $environmentId)
}"""

AUTH_HINT = (
    "RAILWAY_TOKEN is wrong, expired, or not a project token for this project and environment: "
    "create one in Railway (project -> Settings -> Tokens, for the environment you deploy to) "
    "and store it as the GitHub secret RAILWAY_TOKEN"
)


def trigger(
    settings: Settings,
    *,
    sha: str,
    commit_sha: str | None = None,
    client: httpx.Client | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> DeployResult:
    token = required(settings.railway_token, "RAILWAY_TOKEN", needed_by=NEEDED_BY)
    variables = {
        "serviceId": required(
            settings.railway_service_id, "RAILWAY_SERVICE_ID", needed_by=NEEDED_BY
        ),
        "environmentId": required(
            settings.railway_environment_id, "RAILWAY_ENVIRONMENT_ID", needed_by=NEEDED_BY
        ),
    }
    if commit_sha:
        query, field = DEPLOY_COMMIT, "serviceInstanceDeployV2"
        variables["commitSha"] = commit_sha
    else:
        query, field = REDEPLOY, "serviceInstanceRedeploy"

    url = settings.railway_api_url
    endpoint = Endpoint("Railway", url, AUTH_HINT, settings.secrets())
    with http_client(client) as http:
        response = post(
            http, endpoint, url, retry=retry,
            json={"query": query, "variables": variables},
            headers={"Project-Access-Token": token},
        )
    data = _graphql_data(response, endpoint, field=field, commit_sha=commit_sha)

    what = f"commit {commit_sha[:12]}" if commit_sha else "the latest deployment (redeploy)"
    if field == "serviceInstanceDeployV2":
        deployment_id = str(data)
        detail = f"Railway is deploying {what} as deployment {deployment_id}"
    else:
        deployment_id = None
        detail = f"Railway is rebuilding {what}"
    return DeployResult("railway", sha, True, detail, deployment_id)


def _graphql_data(
    response: httpx.Response, endpoint: Endpoint, *, field: str, commit_sha: str | None
) -> object:
    try:
        body = response.json()
    except ValueError:
        raise endpoint.error(
            f"Railway answered HTTP {response.status_code} with a body that is not JSON",
            hint="check that RAILWAY_API_URL points at Railway's GraphQL API",
        ) from None
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        messages = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
        messages = messages or str(errors)
        lowered = messages.lower()
        if "not authorized" in lowered or "unauthorized" in lowered:
            hint = AUTH_HINT
        elif "commit not found" in lowered:
            hint = (
                f"commit {commit_sha} is not in the repository this Railway service deploys "
                "from; push it first, or deploy without a commit to redeploy the latest build"
            )
        elif "not found" in lowered:
            hint = "check RAILWAY_SERVICE_ID and RAILWAY_ENVIRONMENT_ID (service -> Settings)"
        else:
            hint = "see the message above; the Railway dashboard shows the service's deploys"
        raise endpoint.error(f"Railway refused the deploy: {messages}", hint=hint)
    data = (body.get("data") or {}).get(field) if isinstance(body, dict) else None
    if data in (None, False, ""):
        raise endpoint.error(
            f"Railway answered without a result for {field}: {str(body)[:300]}",
            hint="the deploy may not have started; check the service in the Railway dashboard",
        )
    return data
