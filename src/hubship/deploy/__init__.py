"""Deploy a release and prove production serves it.

`check_verifiable(settings)` refuses a deploy target without BACKEND_URL;
`no_deploy_needed(served_version(url), sha=..., changed=...)` says why a deploy is not needed
(production serves the release already, or is pinned to another revision) or raises when a new
release could never be served; `trigger(settings, sha=...)` starts a deploy on the host
DEPLOY_TARGET names (railway, render, webhook, none); `deploy_if_needed` is the two together,
what `hubship run` and `hubship deploy --if-needed` do; `verify_live(backend_url, sha,
timeout=...)` polls the backend until it serves that sha. Each host has its own module.
"""

from hubship.deploy._http import RetryPolicy
from hubship.deploy.dispatch import (
    Deployment,
    NoDeploy,
    check_verifiable,
    deploy_if_needed,
    no_deploy_needed,
    pinned_revision,
    trigger,
)
from hubship.deploy.result import DeployResult
from hubship.deploy.verify import describe, served_version, verify_live

__all__ = ["DeployResult", "Deployment", "NoDeploy", "RetryPolicy", "check_verifiable",
           "deploy_if_needed", "describe", "no_deploy_needed", "pinned_revision",
           "served_version", "trigger", "verify_live"]
