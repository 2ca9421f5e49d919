"""The one Hub commit a release becomes: the publisher's staged copy, signed, with its card.

    stage: copy the manifest and every file it vouches for into a private folder, verify it
    commit_staged: that copy + the numbered manifest -> signed (manifest.sig) -> card and
                    plots -> ONE commit that also deletes what the release no longer holds

Signing covers manifest.json, models/* and holdout/* (`hubship.signing`); the card is written
after signing and is not covered. Before committing, the new signature is checked the way a
backend will check it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hubship.card import PLOTS_DIR, write_card
from hubship.gate import GateReport
from hubship.manifest import CARD_FILE, MANIFEST_FILE, SIGNATURE_FILE, Manifest
from hubship.registry import Registry, Release
from hubship.signing import SigningKey

# Paths a release owns on the Hub: gone from the new release -> deleted in its commit.
RELEASE_PATHS = ("models/", "holdout/", f"{PLOTS_DIR}/")
RELEASE_FILES = (MANIFEST_FILE, SIGNATURE_FILE, CARD_FILE)


def stage(release_dir: Path, staging: Path) -> Manifest:
    """Copy the manifest and every file it vouches for into `staging`, and verify them there.

    From then on only that private copy is read (gate, card, upload), so a concurrent
    `hubship train` replacing `release_dir` cannot slip in files that were never verified.
    """
    manifest = Manifest.read(release_dir)
    manifest.write(staging)
    for ref in manifest.files():
        target = staging / ref.file
        target.parent.mkdir(parents=True, exist_ok=True)
        source = Path(release_dir) / ref.file
        if source.is_file():  # a missing file is reported by verify_files below
            shutil.copyfile(source, target)
    manifest.verify_files(staging)
    return manifest


def commit_staged(
    registry: Registry, staged: Path, manifest: Manifest, head: Release | None, *,
    title: str, report: GateReport | None, forced_because: str | None = None,
    signing_key: SigningKey | None = None,
) -> str:
    previous = head.manifest if head else None
    gate_markdown = report.markdown() if report else None
    if report is None and forced_because:
        gate_markdown = f"Not gated: {forced_because}"
    with tempfile.TemporaryDirectory(prefix="hubship-release-") as tmp:
        out = Path(tmp) / registry.repo_id.split("/")[-1]  # the signature names this folder
        out.mkdir()
        manifest.write(out)
        files = {MANIFEST_FILE: out / MANIFEST_FILE}
        for ref in manifest.files():
            files[ref.file] = out / ref.file
            files[ref.file].parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staged / ref.file, out / ref.file)
        if signing_key is not None:
            files[SIGNATURE_FILE] = _sign(out, signing_key)
        card_files = write_card(out, manifest, staged, repo_id=registry.repo_id,
                                previous=previous, gate_markdown=gate_markdown)
        files |= {path: out / path for path in card_files}
        deletions = _deletions(registry, head, set(files))
        return registry.commit_release(
            files, deletions, parent=head.sha if head else None, title=title,
            description=_description(manifest, report, forced_because, signing_key),
        )


def _sign(folder: Path, key: SigningKey) -> Path:
    """Sign the release folder, and check the signature as a backend will."""
    from hubship.signing import sign_release, verify_release

    signature = sign_release(folder, key)
    verify_release(folder, key.public, origin="the release just signed")
    return signature


def _deletions(registry: Registry, head: Release | None, keep: set[str]) -> list[str]:
    if head is None:
        return []
    return [path for path in registry.files(head.sha)
            if path not in keep and (path.startswith(RELEASE_PATHS) or path in RELEASE_FILES)]


def _description(manifest: Manifest, report: GateReport | None,
                 forced_because: str | None = None, signing_key: SigningKey | None = None
                 ) -> str:
    lines = ["| model | metric | value |", "| --- | --- | ---: |"]
    for name, entry in manifest.models.items():
        for metric, value in sorted(entry.metrics.items()):
            primary = " (primary)" if metric == entry.primary_metric.name else ""
            lines.append(f"| {name} | {metric}{primary} | {value:.4f} |")
    parts = ["\n".join(lines)]
    if report is not None:
        parts.append("Gate (scored at publish on the challenger's holdout sets):\n\n"
                     + report.markdown())
    if manifest.forced:
        parts.append("FORCED: published with --force"
                     + (f"; {forced_because}." if forced_because else "."))
    if signing_key is not None:
        parts.append(f"Signed: {SIGNATURE_FILE} (public key sha256 "
                     f"{signing_key.public.fingerprint[:16]}…).")
    return "\n\n".join(parts) + "\n"
