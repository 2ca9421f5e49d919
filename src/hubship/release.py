"""The only code that turns release files into Python objects.

    release folder (Hub snapshot | backend cache | bundled | the publisher's staged copy)
      1. signature  manifest.sig over manifest.json, models/*, holdout/*   (with a verify key)
      2. sha256     every file against the manifest (authenticated by step 1)
      3. versions   scikit-learn and every package the models' pickles need, against the
                    installed ones (the manifest's per-model `packages`)
      4. load       joblib, or skops with the configured trusted types

`check()` runs steps 1-3 over the whole release and raises before anything is loaded, so a
release that fails any step is never partly loaded; `CheckedRelease.load()` is step 4 and
refuses a release whose versions do not match (unless allowed). What to trust, the verify key
and the skops allow-list, comes from `Trust`, built from the process's settings: never from
the release itself.

Who calls it: the backend's loader (`Trust.from_settings`), the gate and the rollback
(`Trust.for_publisher`: the publisher's key pair), and the model card, which reads only the
publisher's private staged copy of a release it has just checked (`LOCAL`: no signature).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from hubship.errors import (
    ConfigError,
    IncompatibleRelease,
    SignatureError,
)
from hubship.manifest import MANIFEST_FILE, Manifest, ModelEntry, model_format
from hubship.model_files import ModelFile, load_model_file
from hubship.model_packages import distribution_of

if TYPE_CHECKING:
    from hubship.config import Settings
    from hubship.signing import PublicKey, SigningKey

log = logging.getLogger("hubship.release")
SKLEARN = "scikit-learn"


@dataclass(frozen=True)
class Trust:
    """What this process trusts, from its own configuration."""

    verify_key: PublicKey | None = None
    skops_trusted: tuple[str, ...] = ("numpy.dtype",)
    allow_sklearn_mismatch: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Trust:
        """The backend's: HUBSHIP_VERIFY_KEY (ConfigError when malformed)."""
        from hubship.signing import parse_verify_key

        key = parse_verify_key(settings.verify_key) if settings.verify_key else None
        return cls(key, settings.skops_trusted_types, settings.allow_sklearn_mismatch)

    @classmethod
    def for_publisher(cls, settings: Settings, *, dry_run: bool = False
                      ) -> tuple[Trust, SigningKey | None]:
        """The publisher's trust and signing key: it verifies the releases it reads (the
        champion, a rollback's target) with HUBSHIP_VERIFY_KEY or, when only
        HUBSHIP_SIGNING_KEY is set, that key's public half. ConfigError (exit 2) when a key is
        malformed, the two do not form a pair, or only the verify key is set (the release
        would be unsigned, and refused by its own verifiers; a dry run publishes nothing)."""
        from hubship.signing import parse_signing_key

        trust = cls.from_settings(settings)
        signing_key = (parse_signing_key(settings.signing_key.get_secret_value())
                       if settings.signing_key else None)
        if signing_key is None:
            if trust.verifies and not dry_run:
                raise ConfigError(
                    "HUBSHIP_VERIFY_KEY is set but HUBSHIP_SIGNING_KEY is not: this release "
                    "would be unsigned, and every backend verifying with that key would refuse "
                    "it", hint="set HUBSHIP_SIGNING_KEY to the private key of the pair (a "
                               "GitHub secret in the workflow), or unset HUBSHIP_VERIFY_KEY here")
            return trust, None
        if trust.verify_key is None:
            return cls(signing_key.public, trust.skops_trusted, False), signing_key
        if trust.verify_key != signing_key.public:
            raise ConfigError(
                "HUBSHIP_VERIFY_KEY is not the public half of HUBSHIP_SIGNING_KEY: releases "
                "signed here would be refused by whoever verifies with that public key",
                hint="set both from one `hubship keygen` pair (or unset HUBSHIP_VERIFY_KEY in "
                     "the publisher: it verifies with the signing key's public half)")
        return cls(trust.verify_key, trust.skops_trusted, False), signing_key

    @property
    def verifies(self) -> bool:
        return self.verify_key is not None


LOCAL = Trust()  # files this process made or already checked: no signature to verify


@dataclass(frozen=True)
class CheckedRelease:
    """A release folder that passed steps 1-2; `incompatible` says why step 3 failed."""

    path: Path
    manifest: Manifest
    verified: bool  # its signature checked out against the configured verify key
    incompatible: str | None
    trust: Trust
    origin: str

    def load(self, name: str) -> Any:
        """Step 4 for one model: refused when the versions do not match (unless allowed)."""
        self._refuse_incompatible()
        entry = self.manifest.models[name]
        return load_model_file(self.path / entry.file, name=name, sha256=entry.sha256,
                               skops_trusted=self.trust.skops_trusted)

    def load_all(self) -> Mapping[str, Any]:
        self._refuse_incompatible()
        return MappingProxyType({name: self.load(name) for name in self.manifest.models})

    def model_files(self) -> dict[str, ModelFile]:
        """What another process needs to do step 4 itself (`model_files.load_model_file`):
        each model's path, its checked sha256 and the trusted skops types; refused like
        `load` when the versions do not match."""
        self._refuse_incompatible()
        return {name: ModelFile(str(self.path / entry.file), entry.sha256,
                                self.trust.skops_trusted)
                for name, entry in self.manifest.models.items()}

    def _refuse_incompatible(self) -> None:
        if self.incompatible is None:
            return
        message = f"{self.origin}: {self.incompatible}"
        if self.trust.allow_sklearn_mismatch:
            log.warning("!!! %s; loading anyway because HUBSHIP_ALLOW_SKLEARN_MISMATCH is set. "
                        "Predictions may be wrong or the process may crash. !!!", message)
            return
        raise IncompatibleRelease(
            message,
            hint="install the pinned requirements.txt the models were trained with, or set "
                 "HUBSHIP_ALLOW_SKLEARN_MISMATCH=1 to load anyway (unsafe)",
        )


def check(release_dir: Path, trust: Trust, *, origin: str) -> CheckedRelease:
    """Steps 1-3 for the whole release; raises before anything is loaded.

    SignatureError (step 1), ManifestError and IntegrityError (step 2); a version mismatch
    (step 3) is recorded in `incompatible` and refused by `load`, so the gate can still
    read such a release's stored metrics.
    """
    release_dir = Path(release_dir)
    signed: frozenset[str] | None = None
    if trust.verify_key is not None:
        from hubship.signing import verify_release

        signed = verify_release(release_dir, trust.verify_key, origin=origin)
    manifest = Manifest.read(release_dir)
    if signed is not None:
        unsigned = sorted({MANIFEST_FILE, *(ref.file for ref in manifest.files())} - signed)
        if unsigned:  # never load a file the signer chose to leave out
            raise SignatureError(f"{origin}: the signature does not cover "
                                 f"{', '.join(unsigned)}; nothing of it was loaded",
                                 hint="publish the release again with hubship")
    manifest.verify_files(release_dir)
    return CheckedRelease(release_dir, manifest, signed is not None, version_problem(manifest),
                          trust, origin)


def open_release(release_dir: Path, trust: Trust, *, origin: str
                 ) -> tuple[CheckedRelease, Mapping[str, Any]]:
    """All four steps: the checked release and every model, or an error and nothing."""
    checked = check(release_dir, trust, origin=origin)
    return checked, checked.load_all()


# ---- step 3: versions ------------------------------------------------------------------------


def version_problem(manifest: Manifest) -> str | None:
    """Why this release's models must not be loaded here, or None.

    A pickle is only safe under the scikit-learn it was made with; so is every other package
    it needs (lightgbm, xgboost, ...: the manifest's per-model `packages`), which must be
    installed at the version recorded.
    """
    wanted = manifest.environment.packages.get(SKLEARN)
    here = sklearn_version()
    if wanted != here:
        return (f"models were pickled with scikit-learn {wanted or '(not recorded)'}, "
                f"but scikit-learn {here} is installed here")
    for name, entry in manifest.models.items():
        for distribution in sorted(model_distributions(entry)):
            installed = _installed(distribution)
            recorded = manifest.environment.packages.get(distribution)
            if installed is None:
                version = f" {recorded}" if recorded else ""
                return (f"model {name!r} needs {distribution}{version}, which is not installed "
                        f"here: add {distribution}{'==' + recorded if recorded else ''} to "
                        "requirements.txt")
            if recorded not in (None, installed) and installed != "unknown":
                return (f"model {name!r} was saved with {distribution} {recorded}, but "
                        f"{distribution} {installed} is installed here")
    return None


def sklearn_version() -> str:
    """The installed scikit-learn's version, from its metadata: the backend never imports
    scikit-learn itself (its inference processes do), and importing it costs seconds."""
    return metadata.version(SKLEARN)


def sklearn_mismatch(manifest: Manifest) -> str | None:
    """"pickled with scikit-learn A, installed B" (or another package's version problem) when
    the release's models must not be loaded here (`version_problem` decides)."""
    problem = version_problem(manifest)
    if problem is None:
        return None
    pickled = manifest.environment.packages.get("scikit-learn") or "(not recorded)"
    installed = sklearn_version()
    if pickled != installed:
        return f"pickled with scikit-learn {pickled}, installed {installed}"
    return problem


def check_challenger_sklearn(manifest: Manifest, *, origin: str = "the release to publish"
                             ) -> None:
    """Refuse a release to publish whose pickles the gate, the card and the backend must not
    load; `origin` names it for the user (their release folder, never a staging copy)."""
    mismatch = sklearn_mismatch(manifest)
    if mismatch is not None:
        raise IncompatibleRelease(
            f"{origin} was {mismatch}",
            hint="train again with the pinned requirements.txt, so the models, the gate and "
                 "the backend share one scikit-learn",
        )


def model_distributions(entry: ModelEntry) -> set[str]:
    """The packages other than scikit-learn that loading the model needs: those its pickle
    names (`packages`, since hubship/2), else those its estimator's class path names."""
    if entry.packages is not None:
        names = set(entry.packages) - {SKLEARN}
    else:
        modules = {part.split(".")[0] for part in entry.estimator.replace("[", " ").replace(
            "]", " ").split() if "." in part}
        names = {distribution_of(module)
                 for module in modules - {"sklearn", "builtins", "__main__"}}
    if model_format(entry.file) == "skops":
        names.add("skops")
    return names


def _installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        module = distribution.replace("-", "_")
        return "unknown" if importlib.util.find_spec(module) else None

