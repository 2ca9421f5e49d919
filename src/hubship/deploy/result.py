"""What a deploy trigger reports back, and the check for the settings it needs."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from hubship.config import SECRET_SETTINGS
from hubship.errors import ConfigError

# Where each setting lives in GitHub: secrets are encrypted, variables are plain text. Every
# secret setting, and the Railway ids the workflow keeps out of the logs too.
_GITHUB_SECRETS = SECRET_SETTINGS | {"RAILWAY_SERVICE_ID", "RAILWAY_ENVIRONMENT_ID"}


@dataclass(frozen=True)
class DeployResult:
    """`triggered` is False only for DEPLOY_TARGET=none. `detail` is one line for a human."""

    target: str
    sha: str
    triggered: bool
    detail: str
    deployment_id: str | None = None


def required(value: str | SecretStr | None, name: str, *, needed_by: str) -> str:
    """The setting's value, or a ConfigError naming it and where to set it.

    An empty string counts as missing: GitHub passes an unset secret or variable as "".
    """
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value:
        return value
    kind = "secret" if name in _GITHUB_SECRETS else "variable"
    raise ConfigError(
        f"{name} is not set, and {needed_by} needs it",
        hint=f"in GitHub, add the {kind} {name} to the `production` environment "
        f"(Settings -> Environments -> production -> Environment {kind}s); "
        f"locally, export {name}=...",
    )
