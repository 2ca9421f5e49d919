"""One error tree, with messages a user can act on.

    HubshipError                 every error hubship raises on purpose
    ├── ConfigError              a setting is missing or wrong (also a ValueError)
    ├── ManifestError            manifest.json is missing, malformed or inconsistent (ValueError)
    ├── BundleError              training output cannot be saved as asked (ValueError)
    ├── TrainingError            the training command failed or wrote no release
    ├── IntegrityError           a file's sha256 or signature does not match its manifest
    │   ├── SignatureError       the release is unsigned, or its signature does not check out
    │   └── UntrustedTypes       a skops model names a type the configuration does not trust
    ├── RegistryError            a Hub call failed
    │   ├── HubUnreachableError  the Hub did not answer, or failed with a 5xx (ConnectionError)
    │   ├── RepoNotFound         the model repo does not exist or is hidden (LookupError)
    │   ├── RevisionNotFound     the branch, tag or sha does not exist (LookupError)
    │   └── PublishConflict      the branch moved while we published
    ├── GateRefused              the challenger lost to the champion
    ├── IncompatibleRelease      a release was pickled under another scikit-learn version
    ├── ReleaseUnavailable       no source (Hub, cache, bundled) gave the backend a release
    ├── DeployError              the deploy trigger failed
    └── VerifyError              production does not serve the expected release

Every error has a `hint`: what to do about it. Messages never contain secrets: build them
with `redact()` when they quote anything that came near a token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class HubshipError(Exception):
    """Base class. `str(err)` is the problem; `err.hint` says how to fix it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(HubshipError, ValueError):
    exit_code = 2


class ManifestError(HubshipError, ValueError):
    pass


class BundleError(HubshipError, ValueError):
    pass


class TrainingError(HubshipError):
    pass


class IntegrityError(HubshipError):
    pass


class SignatureError(IntegrityError):
    """manifest.sig is missing, malformed, made with another key, or does not cover the files."""


class UntrustedTypes(IntegrityError):
    """A skops model names types outside HUBSHIP_SKOPS_TRUSTED; nothing of it was built."""


class RegistryError(HubshipError):
    pass


class HubUnreachableError(RegistryError, ConnectionError):
    pass


class RepoNotFound(RegistryError, LookupError):
    pass


class RevisionNotFound(RegistryError, LookupError):
    pass


class PublishConflict(RegistryError):
    pass


class GateRefused(HubshipError):
    exit_code = 3


class IncompatibleRelease(HubshipError):
    """The release was pickled under another scikit-learn than the one installed."""


class ReleaseUnavailable(HubshipError):
    """No source (Hub, cache, bundled) gave a usable release."""


class DeployError(HubshipError):
    pass


class VerifyError(HubshipError):
    pass


_TOKEN_PATTERNS = [
    re.compile(r"hf_[A-Za-z0-9]{8,}"),
    re.compile(r"(?i)(bearer\s+)[^\s'\"]+"),
    re.compile(r"(?i)([?&](?:key|token)=)[^&\s'\"]+"),
]


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove every known secret, and anything shaped like a token, from `text`."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text
