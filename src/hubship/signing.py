"""Release signatures: OpenSSF model-signing with an ECDSA key pair, offline.

    publisher: manifest.json + models/* + holdout/*  --private key-->  manifest.sig
    verifier:  the same files + manifest.sig          --public key-->   which files are signed

`manifest.sig` is model-signing's Sigstore bundle (an in-toto statement listing every signed
file's path and sha256, signed with the key). The model card (README.md, plots/) and the
signature itself are left out: they are never loaded as objects, and the card is written
after signing. Those left-out paths are chosen by the signer and carried in the signature, so
a verifier cannot demand more; `hubship.release` therefore loads nothing that is not listed
as signed (`verify_release` returns that list).

Keys come from settings as PEM text or as the path of a PEM file: HUBSHIP_SIGNING_KEY (the
private key, PKCS#8 or SEC1, unencrypted) and HUBSHIP_VERIFY_KEY (the public key). Only NIST
P-256, P-384 and P-521 keys work with model-signing 1.1.1. It takes keys as file paths only,
so PEM text is written to a private temporary file for the length of one call. Key material
never appears in a message: errors name the variable and the problem.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hubship.card import PLOTS_DIR
from hubship.errors import ConfigError, SignatureError
from hubship.manifest import CARD_FILE, SIGNATURE_FILE

if TYPE_CHECKING:
    from model_signing import hashing

UNSIGNED_PATHS = (SIGNATURE_FILE, CARD_FILE, PLOTS_DIR)
CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
KEYGEN_HINT = "run `hubship keygen` for a key pair in the right format"


@dataclass(frozen=True)
class PublicKey:
    pem: bytes

    @property
    def fingerprint(self) -> str:
        """sha256 of the PEM text: what a signature names as `publicKey.hint`."""
        return hashlib.sha256(self.pem).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    pem: bytes = field(repr=False)
    public: PublicKey


# ---- reading keys from settings -------------------------------------------------------------


def _key_bytes(value: str, variable: str) -> bytes:
    """PEM text, or the content of the file a path names. Never quotes `value`."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        if "\n" not in text and "\\n" in text:  # a CI variable stored with literal \n
            text = text.replace("\\n", "\n")
        return (text + "\n").encode()
    path = Path(text).expanduser()
    if "\n" in text or len(text) > 4096 or not path.is_file():
        raise ConfigError(
            f"{variable} is neither PEM text (-----BEGIN ...) nor the path of a readable file",
            hint=f"set {variable} to the key's PEM text or to its file's path; {KEYGEN_HINT}",
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read the key file ({exc.strerror})",
                          hint="check the file's permissions") from None


def _check_curve(key: object, variable: str, kind: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        algorithm = type(key).__name__.removeprefix("_").replace("PrivateKey", "").replace(
            "PublicKey", "")
        raise ConfigError(
            f"{variable} is a {kind} key of type {algorithm}; model-signing signs with ECDSA "
            "keys on P-256, P-384 or P-521 only", hint=KEYGEN_HINT)
    if key.curve.name not in CURVES:
        raise ConfigError(
            f"{variable} is an ECDSA key on curve {key.curve.name}; model-signing takes "
            "P-256, P-384 or P-521 only", hint=KEYGEN_HINT)


def parse_signing_key(value: str, variable: str = "HUBSHIP_SIGNING_KEY") -> SigningKey:
    """The private key a setting holds, checked; ConfigError (exit 2) naming the problem."""
    from cryptography.hazmat.primitives import serialization

    data = _key_bytes(value, variable)
    if b"PUBLIC KEY-----" in data:
        raise ConfigError(f"{variable} holds a public key; the publisher needs the private key",
                          hint="put the private key here and the public one in "
                               "HUBSHIP_VERIFY_KEY (the backend's setting)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # "Password was not given but private key is encrypted"
        raise ConfigError(f"{variable} is an encrypted private key; model-signing cannot "
                          "use a password", hint=f"store the key unencrypted as a secret; "
                                                 f"{KEYGEN_HINT}") from None
    except (ValueError, binascii.Error):
        raise ConfigError(f"{variable} is not a PEM private key (it does not parse)",
                          hint=KEYGEN_HINT) from None
    _check_curve(key, variable, "private")
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return SigningKey(pem, PublicKey(public))


def parse_verify_key(value: str, variable: str = "HUBSHIP_VERIFY_KEY") -> PublicKey:
    """The public key a setting holds, checked; ConfigError (exit 2) naming the problem."""
    from cryptography.hazmat.primitives import serialization

    data = _key_bytes(value, variable)
    if b"PRIVATE KEY-----" in data:
        raise ConfigError(f"{variable} holds a private key; give the backend the public key",
                          hint="`hubship keygen` wrote it beside the private key (.pub); keep "
                               "the private key in the publisher's HUBSHIP_SIGNING_KEY only")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, binascii.Error):
        raise ConfigError(f"{variable} is not a PEM public key (it does not parse)",
                          hint=KEYGEN_HINT) from None
    _check_curve(key, variable, "public")
    # model-signing compares the sha256 of this exact PEM text with the signature's hint
    return PublicKey(key.public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo))


def generate() -> SigningKey:
    """A new P-256 key pair."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return parse_signing_key(pem.decode())


@contextlib.contextmanager
def _key_file(pem: bytes) -> Iterator[Path]:
    """`pem` in a file only this user can read, deleted afterwards (model-signing wants paths)."""
    fd, name = tempfile.mkstemp(prefix="hubship-key-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


# ---- signing and verifying a release folder -------------------------------------------------


def _hashing(*, allow_symlinks: bool) -> hashing.Config:
    from model_signing import hashing

    return (hashing.Config()
            .set_ignored_paths(paths=list(UNSIGNED_PATHS), ignore_git_paths=True)
            .set_allow_symlinks(allow_symlinks))


def sign_release(folder: Path, key: SigningKey) -> Path:
    """Sign every file in `folder` but the card and the signature; write `manifest.sig`."""
    from model_signing import signing

    target = Path(folder) / SIGNATURE_FILE
    target.unlink(missing_ok=True)  # never sign an old signature into the new one
    with _key_file(key.pem) as path:
        (signing.Config().use_elliptic_key_signer(private_key=path)
         .set_hashing_config(_hashing(allow_symlinks=False)).sign(Path(folder), target))
    return target


def verify_release(folder: Path, key: PublicKey, *, origin: str) -> frozenset[str]:
    """Check `folder` against its `manifest.sig` with `key`; the paths the signature lists.

    Raises SignatureError naming the problem (unsigned, another key, forged, files changed,
    added or missing). Any failure of the library counts as not verified.
    """
    folder = Path(folder)
    signature = folder / SIGNATURE_FILE
    if not signature.is_file():
        raise SignatureError(
            f"{origin} is not signed (no {SIGNATURE_FILE}); nothing of it was loaded",
            hint="this process verifies releases (HUBSHIP_VERIFY_KEY): publish releases with "
                 "HUBSHIP_SIGNING_KEY set, or roll back to a signed one")
    from cryptography.exceptions import InvalidSignature
    from model_signing import verifying

    try:
        with _key_file(key.pem) as path:
            (verifying.Config().use_elliptic_key_verifier(public_key=path)
             .set_hashing_config(_hashing(allow_symlinks=True))  # HF cache snapshots: symlinks
             .verify(folder, signature))
    except InvalidSignature:
        raise _refused(origin, f"{SIGNATURE_FILE} is not a valid signature by the configured "
                               "key (forged, or edited after signing)") from None
    except Exception as exc:  # noqa: BLE001 - whatever the library raises: not verified
        raise _refused(origin, _describe(exc, key)) from None
    return _signed_paths(signature, origin)


def _refused(origin: str, problem: str) -> SignatureError:
    return SignatureError(
        f"{origin} failed signature verification: {problem}; nothing of it was loaded",
        hint="only releases published with the key pair of HUBSHIP_VERIFY_KEY load; publish "
             "a new release (or roll back to a signed one) from the pipeline")


def _describe(exc: BaseException, key: PublicKey) -> str:
    """model-signing's error in words, naming files (its digests are raw-bytes reprs)."""
    text = str(exc)
    if text.startswith("Key mismatch"):
        return (f"{SIGNATURE_FILE} was made with another key (the configured public key's "
                f"fingerprint is {key.fingerprint[:16]}…)")
    if text.startswith("Signature mismatch"):
        parts = []
        # the library's message is a list's repr: quotes may come escaped (\\')
        changed = re.findall(r"Hash mismatch for \\?'([^'\\]+)", text)
        for label, pattern in (("files not covered by the signature",
                                r"Extra files found in model \\?'[^']*': ([^\"'\\\]]+)"),
                               ("signed files missing", r"Missing files in model \\?'[^']*': "
                                                        r"([^\"'\\\]]+)")):
            found = re.search(pattern, text)
            if found:
                parts.append(f"{label}: {found.group(1).strip()}")
        if changed:
            parts.append(f"changed after signing: {', '.join(changed)}")
        return "; ".join(parts) or "the files do not match the signature"
    if isinstance(exc, json.JSONDecodeError | KeyError) or "validation error" in text:
        return f"{SIGNATURE_FILE} is not a signature bundle (truncated or malformed)"
    return f"{type(exc).__name__}: {text[:200]}"


def _signed_paths(signature: Path, origin: str) -> frozenset[str]:
    """The file paths the (now verified) signature lists, from its in-toto statement."""
    try:
        bundle = json.loads(signature.read_bytes())
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        return frozenset(r["name"] for r in statement["predicate"]["resources"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _refused(origin, f"{SIGNATURE_FILE} lists no signed files") from None


# ---- key files ------------------------------------------------------------------------------


def write_key_pair(private_path: Path, key: SigningKey) -> Path:
    """Write the private key (mode 0600 from the first byte; never overwrites) and the public
    key beside it (`.pub`); returns the public key's path."""
    public_path = private_path.with_suffix(".pub")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.pem)
    public_path.write_bytes(key.public.pem)
    return public_path
