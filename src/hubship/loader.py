"""Load a release for serving: resolve, download, verify, load; with a fallback chain.

    Hub: resolve the revision to a sha, snapshot_download that sha into the backend cache
     └─ Hub unreachable -> the cached snapshot of that revision (source "cache")
         └─ not cached, or broken -> the bundled release in Settings.assets_dir ("bundled")
             └─ nothing usable -> ReleaseUnavailable (the backend stays up and not ready)

Decisions:
- A revision or repo that does not exist is a configuration error and is raised, with no
  fallback: serving another release than the one asked for would be wrong. Only an unreachable
  Hub falls back.
- Nothing is unpickled here: `hubship.release` loads a release after its signature (with
  HUBSHIP_VERIFY_KEY), every sha256 and the scikit-learn version check out (a mismatch only
  when explicitly allowed, logged loudly). The sha256 checks below only decide what to
  download again.
- A cached file that fails its hash is downloaded again (force_download) when the Hub answers;
  offline, that cached release is skipped.
- The revision -> sha pointer in the cache (`refs/<revision>`) is written only after a release
  loaded, so the offline fallback always finds the last release that worked. The fallback asks
  the cache for RELEASE_PATTERNS, what was downloaded: the client checks a cached snapshot
  against the commit's whole file list, and the card and plots are never downloaded.
- Every Hub call goes through the backend's `hub_client.HubClient` (`HubClient.for_backend`):
  a timeout on every request (HUBSHIP_HUB_TIMEOUT, default 30 s; a timeout is "the Hub did not
  answer"), failures mapped with the backend's hints, no retries here (`serving.reload` retries
  in the background).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from hubship.config import Settings
from hubship.errors import (
    HubUnreachableError,
    IncompatibleRelease,
    IntegrityError,
    ManifestError,
    RegistryError,
    ReleaseUnavailable,
)
from hubship.hub_client import HubClient, backend_cache_dir, tag_name
from hubship.manifest import MANIFEST_FILE, SIGNATURE_FILE, Manifest, ModelEntry, utcnow
from hubship.model_files import ModelFile
from hubship.release import CheckedRelease, Trust, check

log = logging.getLogger("hubship.loader")

Source = Literal["hub", "cache", "bundled"]
# what serving needs (the holdout sets are hashed with the models); not the card nor the plots
RELEASE_PATTERNS = [MANIFEST_FILE, SIGNATURE_FILE, "models/*", "holdout/*"]


@dataclass(frozen=True)
class LoadedModel:
    name: str
    entry: ModelEntry
    estimator: Any  # None when `unpickle=False`: an inference process loads `file`
    file: ModelFile | None = None


@dataclass(frozen=True)
class ModelSet:
    """One loaded release. Immutable: a reload builds a new one and swaps it in whole."""

    repo_id: str
    revision: str
    sha: str | None  # None for a bundled release: it was never a Hub commit we can name
    tag: str | None
    release: int | None
    source: Source
    loaded_at: datetime
    manifest: Manifest
    models: Mapping[str, LoadedModel]
    path: Path
    verified: bool = False  # its signature checked out against HUBSHIP_VERIFY_KEY


# ---- what the backend asks the Hub --------------------------------------------------------


def find_tag(hub: HubClient, sha: str, release: int | None) -> str | None:
    """The `v<N>` tag pointing at `sha` (preferring the manifest's release number), or None."""
    try:
        numbers = hub.refs().releases_at(sha)
    except RegistryError as exc:
        log.warning("could not list tags: %s", exc.message)
        return None
    if release in numbers:
        return tag_name(release)
    return tag_name(numbers[-1]) if numbers else None


# ---- verifying and loading a release directory (hubship.release) --------------------------


def load_models(release_dir: Path, settings: Settings, *, origin: str, unpickle: bool = True
                ) -> tuple[CheckedRelease, Mapping[str, LoadedModel]]:
    """Signature (with a verify key), every sha256, versions, then each model; all or none.

    `unpickle=False` stops after the versions: each model's `file` says what an inference
    process loads (it hashes the bytes again before unpickling them), so the backend itself
    never imports scikit-learn or pandas.
    """
    checked = check(release_dir, Trust.from_settings(settings), origin=origin)
    entries = checked.manifest.models
    if not unpickle:
        return checked, MappingProxyType({
            name: LoadedModel(name, entries[name], None, file)
            for name, file in checked.model_files().items()})
    return checked, MappingProxyType({name: LoadedModel(name, entries[name], estimator)
                                      for name, estimator in checked.load_all().items()})


def _model_set(settings: Settings, *, revision: str, sha: str | None, tag: str | None,
               source: Source, checked: CheckedRelease,
               models: Mapping[str, LoadedModel]) -> ModelSet:
    return ModelSet(
        repo_id=settings.repo_id, revision=revision, sha=sha, tag=tag,
        release=checked.manifest.release, source=source, loaded_at=utcnow(),
        manifest=checked.manifest, models=models, path=checked.path, verified=checked.verified,
    )


# ---- the three sources ----------------------------------------------------------------------


def _download(hub: HubClient, sha: str) -> Path:
    return Path(hub.call(lambda: hub.api.snapshot_download(
        hub.repo_id, revision=sha, cache_dir=hub.cache_dir, allow_patterns=RELEASE_PATTERNS,
    ), doing=f"downloading {sha[:12]}"))


def _redownload_broken(hub: HubClient, sha: str, release_dir: Path, manifest: Manifest
                       ) -> None:
    """Download again every file of a cached snapshot that fails its hash, and check the new
    copy (each file is hashed once before and once after its download)."""
    for ref in manifest.files():
        try:
            manifest.verify_files(release_dir, names={ref.file})
        except IntegrityError as exc:
            log.warning("cached file rejected, not loading it: %s; downloading it again",
                        exc.message)
            hub.call(partial(hub.api.hf_hub_download, hub.repo_id, ref.file, revision=sha,
                             cache_dir=hub.cache_dir, force_download=True),
                     doing=f"downloading {ref.file} again")
            manifest.verify_files(release_dir, names={ref.file})


def load_from_hub(settings: Settings, *, hub: HubClient | None = None,
                  revision: str | None = None, sha: str | None = None,
                  unpickle: bool = True) -> ModelSet:
    """Resolve, download, verify and load `revision` (default MODEL_REVISION) from the Hub."""
    hub = hub or HubClient.for_backend(settings)
    revision = revision or settings.model_revision
    sha = sha or hub.resolve(revision)
    release_dir = _download(hub, sha)
    manifest = Manifest.read(release_dir)
    try:
        manifest.verify_files(release_dir)
    except IntegrityError:
        _redownload_broken(hub, sha, release_dir, manifest)
    checked, models = load_models(release_dir, settings, unpickle=unpickle,
                                  origin=f"revision {revision} ({sha})")
    _remember_revision(hub, revision, sha)
    tag = find_tag(hub, sha, checked.manifest.release)
    return _model_set(settings, revision=revision, sha=sha, tag=tag, source="hub",
                      checked=checked, models=models)


def load_from_cache(settings: Settings, *, revision: str | None = None,
                    unpickle: bool = True) -> ModelSet:
    """The cached snapshot `revision` last loaded from; no network.

    Asked with the download's own RELEASE_PATTERNS: the client checks a cached snapshot
    against the commit's file list, and the card and plots were never downloaded.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import IncompleteSnapshotError, LocalEntryNotFoundError

    revision = revision or settings.model_revision
    try:
        path = Path(snapshot_download(
            settings.repo_id, revision=revision, cache_dir=backend_cache_dir(settings),
            allow_patterns=RELEASE_PATTERNS, local_files_only=True,
        ))
    except IncompleteSnapshotError as exc:  # a download cut short: files are missing
        log.warning("%s", exc)
        raise ReleaseUnavailable(f"the cached release for revision {revision!r} is incomplete "
                                 "(a download was cut short)") from None
    except LocalEntryNotFoundError:
        raise ReleaseUnavailable(f"no cached release for revision {revision!r}") from None
    try:
        checked, models = load_models(path, settings, unpickle=unpickle,
                                      origin=f"cached {revision} ({path.name})")
    except IntegrityError as exc:
        log.warning("cached file rejected, not loading it: %s (the Hub is unreachable, so it "
                    "cannot be downloaded again)", exc.message)
        raise
    release = checked.manifest.release
    return _model_set(settings, revision=revision, sha=path.name,
                      tag=tag_name(release) if release else None, source="cache",
                      checked=checked, models=models)


def load_bundled(settings: Settings, *, unpickle: bool = True) -> ModelSet:
    """The release shipped with the backend (Settings.assets_dir), when it checks out."""
    release_dir = settings.assets_dir
    if not (release_dir / MANIFEST_FILE).is_file():
        raise ReleaseUnavailable(f"no bundled release ({release_dir / MANIFEST_FILE} is missing)")
    checked, models = load_models(release_dir, settings, unpickle=unpickle,
                                  origin=f"bundled {release_dir}")
    release = checked.manifest.release
    return _model_set(settings, revision=settings.model_revision, sha=None,
                      tag=tag_name(release) if release else None, source="bundled",
                      checked=checked, models=models)


def load_release(settings: Settings, *, hub: HubClient | None = None,
                 revision: str | None = None, unpickle: bool = True) -> ModelSet:
    """The fallback chain: Hub, then (only when the Hub is unreachable) cache, then bundled."""
    try:
        return load_from_hub(settings, hub=hub, revision=revision, unpickle=unpickle)
    except HubUnreachableError as exc:
        problems = [exc.message]
        log.warning("%s; trying the cached release", exc.message)
    fallbacks: list[tuple[str, Callable[[], ModelSet]]] = [
        ("cache", lambda: load_from_cache(settings, revision=revision, unpickle=unpickle)),
        ("bundled", lambda: load_bundled(settings, unpickle=unpickle))]
    for source, load in fallbacks:
        try:
            model_set = load()
        except (ReleaseUnavailable, IntegrityError, IncompatibleRelease, ManifestError) as exc:
            problems.append(f"{source}: {exc.message}")
            log.warning("%s fallback unusable: %s", source, exc.message)
            continue
        log.warning("serving the %s release %s (the Hub is unreachable)", source,
                    model_set.sha or model_set.path)
        return model_set
    raise ReleaseUnavailable(
        "; ".join(problems),
        hint="start the Hub or fix HF_ENDPOINT; the backend retries on its own",
    )


def _remember_revision(hub: HubClient, revision: str, sha: str) -> None:
    """Point the cache's refs/<revision> at `sha`, atomically, for the offline fallback."""
    if revision == sha or hub.cache_dir is None:
        return
    from huggingface_hub.file_download import repo_folder_name

    ref = (hub.cache_dir / repo_folder_name(repo_id=hub.repo_id, repo_type="model")
           / "refs" / revision)
    try:
        ref.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=ref.parent, delete=False) as handle:
            handle.write(sha)
        os.replace(handle.name, ref)
    except OSError as exc:
        log.warning("could not record %s -> %s in the cache: %s", revision, sha[:12], exc)
