"""Deploy a release and prove production serves it.

`trigger(settings, sha=...)` starts a deploy on the host DEPLOY_TARGET names (railway, render,
webhook, none); `verify_live(backend_url, sha, timeout=...)` polls the backend until it serves
that sha; `already_serving(settings, sha=...)` says whether it does already (one request).
Each host has its own module (`railway`, `render`, `webhook`).
"""

from hubship.deploy._http import RetryPolicy
from hubship.deploy.dispatch import already_serving, trigger
from hubship.deploy.result import DeployResult
from hubship.deploy.verify import served_version, verify_live

__all__ = ["DeployResult", "RetryPolicy", "already_serving", "served_version", "trigger",
           "verify_live"]
