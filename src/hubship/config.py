"""Settings from the environment, read once into one object (pydantic-settings).

The README's configuration table lists the same names; keep them in step. Secrets are
`SecretStr`, so printing a Settings object never shows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from hubship.errors import ConfigError

LOCAL_HUB_PORT = 8900
LOCAL_REPO_ID = "local/models"
HUGGINGFACE_CO = "https://huggingface.co"

DeployTarget = Literal["railway", "render", "webhook", "none"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, populate_by_name=True,
        env_ignore_empty=True,  # GitHub passes an unset secret or variable as ""
    )

    # Registry (the Hugging Face Hub, or the embedded local hub)
    hf_endpoint: str | None = Field(None, description="Hub URL; unset = huggingface.co")
    hf_token: SecretStr | None = Field(None, description="Hub token (write in CI, read in backend)")
    hf_repo_id: str | None = Field(None, description="the model repo, namespace/name")
    model_revision: str = Field("main", description="branch, tag or sha the backend serves")
    hub_retries: int = Field(4, ge=0, alias="HUBSHIP_HUB_RETRIES",
                             description="retries (with backoff) when the Hub does not answer")
    hub_timeout: float = Field(30.0, gt=0, alias="HUBSHIP_HUB_TIMEOUT",
                               description="seconds one Hub request may take")

    # Local state
    hubship_home: Path = Field(Path(".hubship"), description="local hub data, caches, demo state")
    assets_dir: Path = Field(
        Path("backend/model_assets"), alias="HUBSHIP_ASSETS_DIR",
        description="where training writes a release and the backend finds bundled models",
    )
    train_command: str = Field("python models/train.py", alias="HUBSHIP_TRAIN_COMMAND")

    # Trust (hubship.signing, hubship.release): PEM text or the path of a PEM file
    signing_key: SecretStr | None = Field(
        None, alias="HUBSHIP_SIGNING_KEY",
        description="ECDSA private key the publisher signs releases with (`hubship keygen`)")
    verify_key: str | None = Field(
        None, alias="HUBSHIP_VERIFY_KEY",
        description="public key the backend (and the publisher) verify releases with")
    skops_trusted: str = Field(
        "numpy.dtype", alias="HUBSHIP_SKOPS_TRUSTED",
        description="comma-separated types a skops model may hold beyond skops' own defaults")

    # Backend
    admin_token: SecretStr | None = None
    hf_webhook_secret: SecretStr | None = None
    cors_origins: str = Field("", description="comma-separated origins allowed to call the API")
    model_poll_seconds: float = Field(0, ge=0, description="poll the Hub every N s; 0 = off")
    max_body_bytes: int = Field(1_000_000, alias="HUBSHIP_MAX_BODY_BYTES", gt=0)
    max_records: int = Field(1000, alias="HUBSHIP_MAX_RECORDS", gt=0,
                             description="records one predict request may hold")
    max_errors: int = Field(20, alias="HUBSHIP_MAX_ERRORS", gt=0,
                            description="validation errors one 422 answer lists")
    releases_cache_seconds: float = Field(
        10.0, alias="HUBSHIP_RELEASES_CACHE_SECONDS", ge=0,
        description="how long /releases reuses its last Hub read (a reload refreshes it)")
    allow_sklearn_mismatch: bool = Field(False, alias="HUBSHIP_ALLOW_SKLEARN_MISMATCH")
    inference_workers: str = Field(
        "1", alias="HUBSHIP_INFERENCE_WORKERS",
        description="inference processes (auto = one per core; 0 = a thread of the server)",
    )
    max_batch: int = Field(64, alias="HUBSHIP_MAX_BATCH", ge=1,
                           description="most records per model call")
    batch_wait_ms: float = Field(5.0, alias="HUBSHIP_BATCH_WAIT_MS", ge=0,
                                 description="longest wait for a fuller batch under load")
    queue_rows: int = Field(2048, alias="HUBSHIP_QUEUE_ROWS", ge=1,
                            description="records waiting past which predict answers 503")
    predict_timeout: float = Field(10.0, alias="HUBSHIP_PREDICT_TIMEOUT", gt=0,
                                   description="seconds a prediction may wait, then 504")

    # Deploy and verify
    backend_url: str | None = Field(
        None, description="the backend's base URL, http(s)://host[:port]; verify polls /version"
    )
    deploy_target: DeployTarget = "none"
    railway_token: SecretStr | None = None
    railway_service_id: str | None = None
    railway_environment_id: str | None = None
    render_deploy_hook: SecretStr | None = None
    railway_api_url: str = Field(
        "https://backboard.railway.com/graphql/v2", alias="RAILWAY_API_URL"
    )
    github_actions: bool = Field(False, alias="GITHUB_ACTIONS")
    verify_timeout: float = Field(300, alias="HUBSHIP_VERIFY_TIMEOUT", gt=0)
    verify_replicas: int = Field(1, alias="HUBSHIP_VERIFY_REPLICAS", ge=1,
                                 description="distinct replicas that must serve the release")
    release_sha: str | None = Field(None, alias="HUBSHIP_RELEASE_SHA",
                                    description="default --sha of `hubship deploy`/`verify`")
    release_tag: str | None = Field(None, alias="HUBSHIP_RELEASE_TAG",
                                    description="the release's tag (v<N>), for messages")
    release_changed: bool | None = Field(
        None, alias="HUBSHIP_RELEASE_CHANGED",
        description="whether the publish step made a new release; default --changed of "
        "`hubship deploy` (unset = assume new)",
    )
    deploy_commit: str | None = Field(
        None, alias="HUBSHIP_DEPLOY_COMMIT",
        description="git commit Railway should deploy (opt-in); unset = redeploy the latest",
    )

    @field_validator("inference_workers")
    @classmethod
    def _workers_count_or_auto(cls, value: str) -> str:
        value = value.strip().lower()
        if value != "auto" and not value.isdigit():
            raise ValueError("must be a number of inference processes (0 = a thread of the "
                             "server) or auto (one per core)")
        return value

    @field_validator("backend_url")
    @classmethod
    def _backend_url_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, "
                             "e.g. https://penguins.up.railway.app")
        return value

    @property
    def uses_local_hub(self) -> bool:
        """No endpoint, token or repo id: the embedded local hub is the registry (never in CI).

        A repo id without an endpoint names a repo on huggingface.co (a production backend
        reading a public repo sets just HF_REPO_ID), so it never means the local hub.
        """
        return (not self.hf_endpoint and self.hf_token is None and not self.hf_repo_id
                and not self.github_actions)

    @property
    def endpoint(self) -> str:
        if self.hf_endpoint:
            return self.hf_endpoint.rstrip("/")
        if self.uses_local_hub:
            return f"http://127.0.0.1:{LOCAL_HUB_PORT}"
        return HUGGINGFACE_CO

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Read the environment; a wrong value is a ConfigError naming the variable."""
        try:
            # pydantic validates each override as it does an environment value; a wrong one
            # is the ConfigError below
            return cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise invalid_settings(exc) from None

    @property
    def repo_id(self) -> str:
        if self.hf_repo_id:
            from huggingface_hub.errors import HFValidationError
            from huggingface_hub.utils import validate_repo_id

            problem = None if self.hf_repo_id.count("/") == 1 else "it needs a namespace"
            try:
                validate_repo_id(self.hf_repo_id)
            except HFValidationError as exc:
                problem = str(exc).split(":")[0]
            if problem:
                raise ConfigError(
                    f"HF_REPO_ID={self.hf_repo_id!r} is not a valid model repo id ({problem})",
                    hint="set HF_REPO_ID to namespace/name, e.g. my-team/penguins",
                )
            return self.hf_repo_id
        if self.uses_local_hub:
            return LOCAL_REPO_ID
        raise ConfigError(
            "HF_REPO_ID is not set",
            hint="set HF_REPO_ID to your Hub model repo, e.g. my-team/penguins",
        )

    @property
    def token(self) -> str | None:
        return self.hf_token.get_secret_value() if self.hf_token else None

    def write_token(self) -> str | None:
        """The token for publishing; a ConfigError when a real Hub would need one."""
        if self.token is None and not self.hf_endpoint and not self.uses_local_hub:
            raise ConfigError(
                "HF_TOKEN is not set, so nothing can be published to huggingface.co",
                hint="create a write token at huggingface.co/settings/tokens and add it as the "
                "HF_TOKEN secret (GitHub: Settings > Secrets and variables > Actions)",
            )
        return self.token

    @property
    def skops_trusted_types(self) -> tuple[str, ...]:
        return tuple(t.strip() for t in self.skops_trusted.split(",") if t.strip())

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def local_hub_dir(self) -> Path:
        return self.hubship_home / "hub"

    def secrets(self) -> list[str]:
        """Every secret value set (the `SecretStr` settings), for `errors.redact`."""
        values = (getattr(self, name) for name in _SECRET_FIELDS)
        return [v.get_secret_value() for v in values if v is not None]


def _is_secret(field: FieldInfo) -> bool:
    annotation = field.annotation
    return annotation is SecretStr or SecretStr in get_args(annotation)


def env_name(name: str, field: FieldInfo) -> str:
    """The environment variable a setting is read from (its alias, else its name)."""
    return (field.alias or name).upper()


_SECRET_FIELDS = tuple(name for name, field in Settings.model_fields.items() if _is_secret(field))
# the one list of secret names: every `SecretStr` setting (HF_TOKEN, HUBSHIP_SIGNING_KEY, ...)
SECRET_SETTINGS: frozenset[str] = frozenset(env_name(name, Settings.model_fields[name])
                                            for name in _SECRET_FIELDS)


def invalid_settings(exc: ValidationError) -> ConfigError:
    """Turn pydantic's report on the environment into one readable ConfigError.

    pydantic names a field by its alias (HUBSHIP_SIGNING_KEY) or by its name (admin_token);
    either way the variable is named, and a secret's value is never echoed.
    """
    problems = []
    for error in exc.errors():
        location = str(error["loc"][0]) if error["loc"] else "?"
        name, field = _field_at(location)
        variable = env_name(name, field) if field else name.upper()
        message = error["msg"].removeprefix("Value error, ")
        echo = field is not None and not _is_secret(field)
        problems.append(f"{variable}: {message} (got {error.get('input')!r})" if echo
                        else f"{variable}: {message}")
    return ConfigError(
        "invalid setting: " + "; ".join(problems),
        hint="fix the variable in the environment (or in GitHub/Railway/Render settings)",
    )


def _field_at(location: str) -> tuple[str, FieldInfo | None]:
    """The field pydantic reported at `location`, found by name or by alias (any case)."""
    wanted = location.lower()
    for name, field in Settings.model_fields.items():
        if wanted in (name, (field.alias or "").lower()):
            return name, field
    return location, None
