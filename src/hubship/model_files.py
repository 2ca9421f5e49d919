"""Turn one model file into its estimator: hash the bytes, then unpickle exactly those bytes.

The caller passes the sha256 its checked manifest gives for the file (`release.check` verified
the signature over that manifest first). Hashing the very bytes that are unpickled means a file
swapped on disk after the check is refused, not loaded. Used by `hubship.release` (step 4) and
by the backend's inference processes, which load the release the backend verified without
importing the rest of hubship: this module imports nothing heavy (pydantic included).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any, NamedTuple

from hubship.errors import IntegrityError, UntrustedTypes


class ModelFile(NamedTuple):
    """One model file of a checked release, for the process that loads it (plain values)."""

    path: str
    sha256: str
    skops_trusted: tuple[str, ...]


def load_checked(file: ModelFile, name: str) -> Any:
    return load_model_file(Path(file.path), name=name, sha256=file.sha256,
                           skops_trusted=file.skops_trusted)


def load_model_file(path: Path, *, name: str, sha256: str,
                    skops_trusted: tuple[str, ...]) -> Any:
    """The estimator in `path` (joblib, or skops when it ends in .skops) if its bytes hash to
    `sha256`; else IntegrityError, and nothing is unpickled."""
    data = path.read_bytes()
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise IntegrityError(
            f"model {name!r}: {path.name} changed after its release was verified "
            f"(sha256 {found[:12]}..., the manifest says {sha256[:12]}...); nothing of it "
            "was loaded", hint="reload the release (POST /admin/reload) to download it again")
    if path.name.endswith(".skops"):
        return _load_skops(data, path.name, name, skops_trusted)
    import joblib

    return joblib.load(io.BytesIO(data))


def _load_skops(data: bytes, file: str, name: str, trusted: tuple[str, ...]) -> Any:
    """skops.io.loads with the configured allow-list: a type outside it is refused before
    anything is built (skops checks the whole schema first)."""
    import zipfile

    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return skops.io.loads(data, trusted=list(trusted))
    except zipfile.BadZipFile:
        raise IntegrityError(f"model {name!r}: {file} is not a skops file (no zip archive)",
                             hint="save the model with Bundle.add(..., format='skops')") from None
    except UntrustedTypesFoundException:
        found = skops.io.get_untrusted_types(data=data)
        extra = [t for t in found if t not in trusted]
        raise UntrustedTypes(
            f"model {name!r} ({file}) holds types this process does not trust: "
            f"{', '.join(extra)}; nothing of it was built",
            hint="if you reviewed them and the release is yours (signed), add them to "
                 "HUBSHIP_SKOPS_TRUSTED (comma-separated); never trust a type because a "
                 "release lists it",
        ) from None
