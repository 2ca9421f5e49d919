"""Publish a release directory as one atomic, tagged, documented Hub commit; or roll back.

    validate + verify the local release -> read the head of main -> unchanged? stop
    -> gate against the head (the champion) -> card + plots -> ONE commit (parent = that head)
    -> tag v<N>

When `main` moved between reading and committing (HTTP 412), the head is read again and the
gate runs again against the new champion, a bounded number of times. Nothing is overwritten:
an existing tag is never moved.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubship.card import PLOTS_DIR, write_card
from hubship.errors import GateRefused, IntegrityError, ManifestError, PublishConflict, RepoNotFound
from hubship.gate import GateReport, gate
from hubship.manifest import CARD_FILE, MANIFEST_FILE, SIGNATURE_FILE, Manifest
from hubship.registry import Registry, Release, tag_name

ATTEMPTS = 3
# Paths a release owns on the Hub: gone from the new release -> deleted in its commit.
RELEASE_PATHS = ("models/", "holdout/", f"{PLOTS_DIR}/")
RELEASE_FILES = (MANIFEST_FILE, SIGNATURE_FILE, CARD_FILE)


@dataclass(frozen=True)
class PublishResult:
    changed: bool
    sha: str
    tag: str | None
    release: int
    forced: bool = False
    gate: GateReport | None = None
    restores: str | None = None


def publish(
    registry: Registry, release_dir: Path, *, force: bool = False, dry_run: bool = False,
    console: Any = None,
) -> PublishResult:
    """Gate and publish the release in `release_dir`; see the module doc."""
    console = console or _default_console()
    release_dir = Path(release_dir)
    manifest = Manifest.read(release_dir)
    manifest.verify_files(release_dir)
    if not dry_run:
        registry.ensure_repo(private=True)
    for attempt in range(1, ATTEMPTS + 1):
        head = _head_or_none(registry, dry_run=dry_run)
        if head is not None and head.manifest is not None and \
                head.manifest.model_hashes() == manifest.model_hashes():
            return _unchanged(registry, head, console, dry_run=dry_run)
        report = None
        if head is not None and head.manifest is not None:
            _say(console, f"gate: champion is {head.tag or 'main'} ({head.sha[:12]})")
            report = gate(registry.fetch(head.sha), release_dir)
            console.print(report.table())
            if not report.passed and not force:
                raise GateRefused(
                    f"the challenger is worse than the champion {head.tag} ({report.summary()}); "
                    "nothing was published",
                    hint="improve the model, or publish anyway with --force (recorded as FORCED)",
                )
        forced = report is not None and not report.passed
        number = max(_release_of(head), registry.last_release_number() if head else 0) + 1
        new = manifest.model_copy(update={"release": number, "forced": forced, "restores": None})
        title = _title(new)
        if dry_run:
            _say(console, f"dry run: would publish v{number}: {title}")
            return PublishResult(True, head.sha if head else "", None, number, forced, report)
        try:
            sha = _commit(registry, release_dir, new, head, title=title, report=report)
        except PublishConflict as exc:
            if attempt == ATTEMPTS:
                raise PublishConflict(
                    f"{exc.message} ({ATTEMPTS} attempts); nothing of this run was published",
                    hint="several publishes are racing: run again once the others finished",
                ) from None
            _say(console, "main moved while publishing: reading the new head and gating again")
            continue
        if not _tag(registry, sha, number, message=title):
            _say(console, f"unchanged: an identical publish made v{number} first; "
                          f"production stays at v{number} ({sha})")
            return PublishResult(False, sha, tag_name(number), number, forced, report)
        _say(console, f"published v{number}: {sha}"
             + (" (FORCED past the gate)" if forced else ""))
        return PublishResult(True, sha, tag_name(number), number, forced, report)
    raise AssertionError("unreachable")  # pragma: no cover


def rollback(registry: Registry, target: str, *, console: Any = None) -> PublishResult:
    """A new release on `main` restoring the files of `target` (a tag or sha), tagged v<N+1>."""
    console = console or _default_console()
    sha = registry.resolve(target)
    label = next((name for name, tsha in sorted(registry.tags().items())
                  if tsha == sha and name.startswith("v")), target)
    source_dir = registry.fetch(sha)
    manifest = Manifest.read(source_dir)
    manifest.verify_files(source_dir)
    head = registry.head()
    if head is not None and head.manifest is not None and \
            head.manifest.model_hashes() == manifest.model_hashes():
        _say(console, f"{label}'s models are already on main")
        return _unchanged(registry, head, console, dry_run=False)
    number = max(_release_of(head), registry.last_release_number()) + 1
    new = manifest.model_copy(update={"release": number, "forced": False, "restores": label})
    title = f"Release v{number}: rollback to {label} ({sha[:12]})"
    commit_sha = _commit(registry, source_dir, new, head, title=title, report=None)
    changed = _tag(registry, commit_sha, number, message=title)
    _say(console, f"published v{number}: {commit_sha} (restores {label})")
    return PublishResult(changed, commit_sha, tag_name(number), number, False, None,
                         restores=label)


def _commit(
    registry: Registry, release_dir: Path, manifest: Manifest, head: Release | None, *,
    title: str, report: GateReport | None,
) -> str:
    previous = head.manifest if head else None
    with tempfile.TemporaryDirectory(prefix="hubship-release-") as tmp:
        staging = Path(tmp)
        manifest.write(staging)
        card_files = write_card(
            staging, manifest, release_dir, repo_id=registry.repo_id, previous=previous,
            gate_markdown=report.markdown() if report else None,
        )
        files = {MANIFEST_FILE: staging / MANIFEST_FILE}
        files |= {path: staging / path for path in card_files}
        files |= {ref.file: release_dir / ref.file for ref in manifest.files()}
        _check_unchanged_since_gate(manifest, release_dir)
        deletions = _deletions(registry, head, set(files))
        return registry.commit_release(
            files, deletions, parent=head.sha if head else None, title=title,
            description=_description(manifest, report),
        )


def _tag(registry: Registry, sha: str, number: int, *, message: str) -> bool:
    """Tag `sha` as v<N>; False when a concurrent identical publish tagged that very commit.

    (The client skips a commit whose files all equal the branch head's and returns that head,
    so two identical publishes from one head end on the same commit.)
    """
    try:
        registry.tag(sha, number, message=message)
        return True
    except PublishConflict:
        existing = registry.tags().get(tag_name(number))
        if existing == sha:
            return False
        raise PublishConflict(
            f"v{number} already names another commit ({(existing or '?')[:12]}); "
            f"main is at {sha[:12]}, untagged",
            hint=f"check `hubship releases`; tag {sha[:12]} by hand if it is the release",
        ) from None


def _check_unchanged_since_gate(manifest: Manifest, release_dir: Path) -> None:
    """The files committed are the files verified: check again right before uploading."""
    try:
        manifest.verify_files(release_dir)
    except IntegrityError as exc:
        raise IntegrityError(f"{exc.message} (changed while publishing)", hint=exc.hint) from None


def _deletions(registry: Registry, head: Release | None, keep: set[str]) -> list[str]:
    if head is None:
        return []
    return [path for path in registry.files(head.sha)
            if path not in keep and (path.startswith(RELEASE_PATHS) or path in RELEASE_FILES)]


def _unchanged(registry: Registry, head: Release, console: Any, *, dry_run: bool) -> PublishResult:
    release = head.manifest.release if head.manifest else None
    if release is None:
        raise ManifestError(
            f"the manifest on main ({head.sha[:12]}) has no release number",
            hint="publish with hubship, which numbers every release",
        )
    tag = tag_name(release)
    if not dry_run and tag not in registry.tags():
        registry.tag(head.sha, release)  # an earlier run committed but stopped before tagging
    _say(console, f"unchanged: production stays at {tag} ({head.sha})")
    return PublishResult(False, head.sha, tag, release, head.manifest.forced, None)


def _head_or_none(registry: Registry, *, dry_run: bool) -> Release | None:
    try:
        return registry.head()
    except RepoNotFound:
        if dry_run:
            return None  # a dry run does not create the repo
        raise


def _release_of(head: Release | None) -> int:
    return (head.manifest.release or 0) if head and head.manifest else 0


def _title(manifest: Manifest) -> str:
    source = manifest.source
    short = (source.git_commit or "unknown")[:7]
    subject = source.git_subject or "(no subject)"
    forced = " (FORCED past the gate)" if manifest.forced else ""
    return f"Release v{manifest.release}: {short} {subject}{forced}"


def _description(manifest: Manifest, report: GateReport | None) -> str:
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
        parts.append("FORCED: the gate refused this release; it was published with --force.")
    return "\n\n".join(parts) + "\n"


def _say(console: Any, text: str) -> None:
    console.print(text, markup=False, highlight=False)


def _default_console():
    from rich.console import Console

    return Console()
