"""Whether to deploy, and how: `check_verifiable` refuses a deploy nothing could prove,
`no_deploy_needed` reads production's `/version` answer (already serving the release, or pinned
to another revision), and `trigger` starts a deploy on the host DEPLOY_TARGET names."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from hubship.config import Settings
from hubship.deploy import railway, render, webhook
from hubship.deploy._http import DEFAULT_RETRY, RetryPolicy
from hubship.deploy.result import DeployResult
from hubship.deploy.verify import describe, served_version, serves
from hubship.errors import ConfigError, DeployError
from hubship.serving.answers import VersionInfo

PUBLISHED_BRANCH = "main"  # where every release is committed; a backend watching it follows them


def check_verifiable(settings: Settings) -> None:
    """Refuse a deploy target without BACKEND_URL: nothing could prove the deploy worked."""
    if settings.deploy_target != "none" and not settings.backend_url:
        raise ConfigError(
            f"DEPLOY_TARGET={settings.deploy_target} needs BACKEND_URL to prove production "
            "serves the release, and it is not set",
            hint="set BACKEND_URL to the backend's public URL, e.g. "
            "https://penguins.up.railway.app (in GitHub, a variable of the `production` "
            "environment); or unset DEPLOY_TARGET (none) to publish only, reported as NOT "
            "verified",
        )


def pinned_revision(version: VersionInfo | None) -> str | None:
    """The revision production watches when it is not the published branch, else None."""
    revision = version.revision if version else None
    if revision is None or revision in ("", PUBLISHED_BRANCH, f"refs/heads/{PUBLISHED_BRANCH}"):
        return None
    return revision


@dataclass(frozen=True)
class NoDeploy:
    """Why no deploy is needed; `pinned_to` is set when production follows another revision
    (then there is nothing to verify either)."""

    reason: str
    pinned_to: str | None = None


def no_deploy_needed(
    version: VersionInfo | None, *, sha: str, changed: bool | None, label: str | None = None,
) -> NoDeploy | None:
    """Read production's `/version` answer (`served_version`) before deploying release `sha`.

    Production serves it already: no deploy. Production is pinned to another revision
    (MODEL_REVISION): a deploy would restart it on that same pin, so none is needed for an
    unchanged release (`changed=False`), and a new release is a DeployError at once (it would
    never be served). `changed=None` (not known) counts as new. None: deploy.
    """
    if version is not None and serves(version, sha):
        return NoDeploy(f"production already serves {describe(version)}")
    pinned = pinned_revision(version)
    if pinned is None:
        return None
    if changed is False:
        return NoDeploy(f"production is pinned to {pinned} (MODEL_REVISION); not deploying",
                        pinned_to=pinned)
    roll_forward_to = label or sha
    label = label or sha[:12]
    what = f"published {label}, but production" if changed else "production"
    raise DeployError(
        f"{what} is pinned to {pinned} by MODEL_REVISION, so it will not serve {label}: "
        "unpin it (unset MODEL_REVISION) or roll forward explicitly",
        hint="on the backend's host (Railway/Render variables, or its .env) remove "
        f"MODEL_REVISION, or set it to {roll_forward_to} to roll forward on purpose, and redeploy"
        + ("" if changed else "; if this release is not new, pass --unchanged"),
    )


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


@dataclass(frozen=True)
class Deployment:
    """What `deploy_if_needed` did: why it did not deploy (`skipped`), or the deploy it
    started (`result`); and what production served before (None: not asked, or no answer)."""

    served_before: VersionInfo | None
    skipped: NoDeploy | None = None
    result: DeployResult | None = None


def deploy_if_needed(
    settings: Settings, *, sha: str, changed: bool | None, label: str | None = None,
    commit_sha: str | None = None,
) -> Deployment:
    """Ask BACKEND_URL what production serves (when set), then deploy only if it is needed
    (see `no_deploy_needed`); without BACKEND_URL, deploy."""
    version = served_version(settings.backend_url) if settings.backend_url else None
    if settings.backend_url:
        skip = no_deploy_needed(version, sha=sha, changed=changed, label=label)
        if skip is not None:
            return Deployment(version, skipped=skip)
    return Deployment(version, result=trigger(settings, sha=sha, commit_sha=commit_sha))
