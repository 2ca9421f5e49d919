"""Publish a release directory as one atomic, tagged, documented Hub commit; or roll back.

    copy the release into a private staging directory and verify it there (gate, card and
    upload read only that copy) -> check its scikit-learn (dry runs too) -> read the refs
    -> tag an untagged head -> unchanged? stop -> gate against the head (the champion)
    -> card + plots -> ONE commit (parent = that head) -> tag v<N>

When `main` moved between reading and committing (HTTP 412), the refs are read again and the
gate runs again against the new champion, a bounded number of times. Nothing is overwritten:
an existing tag is never moved. The gate refuses a worse or incomparable model, and a model
the champion served that the release drops (its clients would get 404). `--force` publishes
past a refusing gate or an unusable champion, and the release says so (FORCED, with the
reason); an unchanged release is never published again.

Signing (`hubship.signing`): with a signing key, the commit carries `manifest.sig` over the
manifest, models and holdout sets, and every release the publisher reads from the Hub (the
champion, a rollback's target) is verified with that key pair first (`hubship.release`). A
champion that fails verification is never unpickled: the gate refuses, and `--force` gates
against its stored metrics instead. Models equal to the head's count as unchanged only when
the head is signed with this key: otherwise they are published again, signed (the first
signed release after adopting a key pair needs `--force`, since its champion is unsigned).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubship.console import default_console, say
from hubship.errors import (
    GateRefused,
    IncompatibleRelease,
    ManifestError,
    PublishConflict,
    RepoNotFound,
    SignatureError,
)
from hubship.gate import ChampionUnusable, ChampionUnverified, GateReport, gate
from hubship.hub_client import Refs, tag_name
from hubship.manifest import MANIFEST_FILE, Manifest
from hubship.registry import Registry, Release
from hubship.release import LOCAL, Trust, check, check_challenger_sklearn, sklearn_mismatch
from hubship.release_commit import commit_staged, stage
from hubship.signing import SigningKey

ATTEMPTS = 3


@dataclass(frozen=True)
class PublishResult:
    changed: bool
    sha: str
    tag: str | None
    release: int
    forced: bool = False
    gate: GateReport | None = None
    restores: str | None = None
    forced_because: str | None = None  # what --force carried the release past
    signed: bool = False  # the commit carries manifest.sig


@dataclass(frozen=True)
class _Head:
    """One read of the repo: refs, the head commit and its manifest (or why it is unreadable)."""

    refs: Refs
    release: Release | None
    problem: ManifestError | None = None

    def label(self) -> str:
        """"v3 (1a2b3c4d5e6f)", or the sha alone when no v<N> tag names the head."""
        sha = self.refs.head or ""
        numbers = self.refs.releases_at(sha)
        return f"v{numbers[0]} ({sha[:12]})" if numbers else f"{sha[:12]} (untagged)"


def publish(
    registry: Registry, release_dir: Path, *, force: bool = False, dry_run: bool = False,
    console: Any = None, trust: Trust = LOCAL, signing_key: SigningKey | None = None,
    on_gated: Callable[[GateReport | None], None] | None = None,
) -> PublishResult:
    """Gate and publish the release in `release_dir`; see the module doc.

    `trust` verifies what is read from the Hub; `signing_key` signs the commit (both from
    `Trust.for_publisher(settings)`). `on_gated` is called with the gate's report (None:
    no champion) once the gate let the release through, before the commit (`hubship run`
    starts its publish section there).
    """
    console = default_console(console)
    with tempfile.TemporaryDirectory(prefix="hubship-staged-") as tmp:
        staged = Path(tmp)
        manifest = stage(Path(release_dir), staged)
        # here, not only in the gate: a first or forced release is never gated, and a dry run
        # must refuse what the real run refuses
        check_challenger_sklearn(manifest, origin=f"the release in {release_dir}")
        if not dry_run:
            registry.ensure_repo(private=True)
        for attempt in range(1, ATTEMPTS + 1):
            head = _read_head(registry, dry_run=dry_run)
            head, repaired = _repair_tag(registry, head, console, dry_run=dry_run)
            current = head.release.manifest if head.release else None
            if (current is not None and current.model_hashes() == manifest.model_hashes()
                    and _signed_as_wanted(registry, head, signing_key, console)):
                return _unchanged(head, console, repaired=repaired)
            report, forced_because = _gate(registry, head, staged, force=force, console=console,
                                           trust=trust)
            if on_gated is not None:
                on_gated(report)
            number = max(_release_of(head.release), head.refs.last_release) + 1
            new = manifest.model_copy(update={"release": number,
                                              "forced": forced_because is not None,
                                              "restores": None})
            title = _title(new)
            result = PublishResult(True, head.refs.head or "", None, number, new.forced, report,
                                   forced_because=forced_because,
                                   signed=signing_key is not None)
            if dry_run:
                say(console, f"dry run: would publish v{number}: {title}")
                return result
            try:
                sha = commit_staged(registry, staged, new, head.release, title=title,
                                    report=report, forced_because=forced_because,
                                    signing_key=signing_key)
            except PublishConflict as exc:
                if attempt == ATTEMPTS:
                    raise PublishConflict(
                        f"{exc.message} ({ATTEMPTS} attempts); nothing of this run was published",
                        hint="several publishes are racing: run again once the others finished",
                    ) from None
                say(console, "main moved while publishing: reading the new head and gating again")
                continue
            result = dataclasses.replace(result, sha=sha, tag=tag_name(number))
            if not _tag(registry, sha, number, message=title):
                say(console, f"unchanged: an identical publish made v{number} first; "
                             f"v{number} ({sha}) is the latest release")
                return dataclasses.replace(result, changed=False)
            say(console, f"published v{number}: {sha}" + (" (signed)" if result.signed else "")
                + (f" (FORCED: {forced_because})" if forced_because else ""))
            return result
    raise AssertionError("unreachable")  # pragma: no cover


def rollback(registry: Registry, target: str, *, console: Any = None, trust: Trust = LOCAL,
             signing_key: SigningKey | None = None) -> PublishResult:
    """A new release on `main` restoring the files of `target` (a tag or sha), tagged v<N+1>.

    The target is verified with `trust` before anything of it is read (its card's plots load
    its models), and the new release is signed with `signing_key`.
    """
    console = default_console(console)
    sha = registry.resolve(target)
    head = _read_head(registry, dry_run=False)
    numbers = head.refs.releases_at(sha)
    label = f"v{numbers[0]}" if numbers else target
    with tempfile.TemporaryDirectory(prefix="hubship-staged-") as tmp:
        staged = Path(tmp)
        fetched = registry.fetch(sha)
        _warn_unverified(trust, console, what=f"the rollback target {label}")
        try:
            check(fetched, trust, origin=f"{label} ({sha[:12]})")
        except SignatureError as exc:
            raise SignatureError(f"cannot roll back: {exc.message}", hint=(
                "roll back to a release signed with this key pair (`hubship releases`), or "
                "retrain from that release's source commit and publish the result")) from None
        manifest = stage(fetched, staged)
        _check_restorable(manifest, label=label, sha=sha)
        # a broken head manifest does not stop a rollback: replacing it is what rollbacks are for
        head, repaired = _repair_tag(registry, head, console, dry_run=False)
        current = head.release.manifest if head.release else None
        if current is not None and current.model_hashes() == manifest.model_hashes():
            say(console, f"{label}'s models are already on main")
            return _unchanged(head, console, repaired=repaired)
        number = max(_release_of(head.release), head.refs.last_release) + 1
        new = manifest.model_copy(update={"release": number, "forced": False, "restores": label})
        title = f"Release v{number}: rollback to {label} ({sha[:12]})"
        commit_sha = commit_staged(registry, staged, new, head.release, title=title,
                                   report=None, signing_key=signing_key)
    changed = _tag(registry, commit_sha, number, message=title)
    say(console, f"published v{number}: {commit_sha} (restores {label})"
        + (" (signed)" if signing_key else ""))
    return PublishResult(changed, commit_sha, tag_name(number), number, False, None,
                         restores=label, signed=signing_key is not None)


def _read_head(registry: Registry, *, dry_run: bool) -> _Head:
    """The refs (one call) and the head's manifest; a manifest that does not parse is kept as
    the head's problem (the gate refuses it unless forced; a rollback replaces it)."""
    try:
        refs = registry.refs()
    except RepoNotFound:
        if dry_run:
            return _Head(Refs(head=None, tags={}), None)  # a dry run does not create the repo
        raise
    if refs.head is None:
        return _Head(refs, None)
    try:
        manifest = registry.read_manifest(refs.head)
    except ManifestError as exc:
        return _Head(refs, Release(refs.head, None), exc)
    if manifest is None and refs.last_release:  # releases exist, yet main holds none of them
        return _Head(refs, Release(refs.head, None), ManifestError(
            f"main ({refs.head[:12]}) has no {MANIFEST_FILE}, though v{refs.last_release} exists"))
    return _Head(refs, Release(refs.head, manifest))


def _repair_tag(registry: Registry, head: _Head, console: Any, *, dry_run: bool
                ) -> tuple[_Head, str | None]:
    """Tag the head v<N> when its manifest says release N and no tag names it: an earlier run
    committed it and stopped before tagging (so production never moved to it). Returns the
    head with the new tag, and that tag (None when nothing was tagged by this run)."""
    release = head.release.manifest.release if head.release and head.release.manifest else None
    if head.release is None or release is None:
        return head, None
    sha, tag = head.release.sha, tag_name(release)
    existing = head.refs.tags.get(tag)
    if existing == sha:
        return head, None
    if existing is not None:
        say(console, f"warning: main ({sha[:12]}) holds release {release}, but {tag} names "
                     f"{existing[:12]}; tags are never moved")
        return head, None
    if dry_run:
        say(console, f"dry run: would tag main ({sha[:12]}) {tag}: it was committed untagged")
        return head, None
    tagged = _tag(registry, sha, release, message=f"Release {tag} (tagged by a later run)")
    if tagged:
        say(console, f"tagged main ({sha}) {tag}: an earlier run committed it but stopped "
                     "before tagging")
    # False: the run that made the commit tagged it meanwhile, and reports it itself
    refs = dataclasses.replace(head.refs, tags={**head.refs.tags, tag: sha})
    return dataclasses.replace(head, refs=refs), tag if tagged else None


def _gate(registry: Registry, head: _Head, staged: Path, *, force: bool, console: Any,
          trust: Trust = LOCAL) -> tuple[GateReport | None, str | None]:
    """The gate report (None without a champion) and, when --force carried the release past a
    refusal or an unusable champion, why."""
    if head.release is None or (head.release.manifest is None and head.problem is None):
        return None, None  # nothing published yet (or not by hubship): nothing to gate against
    say(console, f"gate: champion is {head.label()}")
    _warn_unverified(trust, console, what="the champion")
    try:
        if head.problem is not None:
            raise ChampionUnusable(
                f"the champion release is unusable: {head.problem.message}",
                hint="roll back to a good release, or publish with --force (recorded as FORCED)",
            )
        champion_dir = registry.fetch(head.release.sha)
        report = gate(champion_dir, staged, trust=trust)
    except ChampionUnverified as exc:
        if not force:
            raise
        say(console, f"FORCED: {exc.message}; gating against its stored metrics (never loaded)")
        report = gate(champion_dir, staged, champion_unverified="not verified")
        console.print(report.table())
        return report, exc.message
    except ChampionUnusable as exc:
        if not force:
            raise
        say(console, f"FORCED: {exc.message}; publishing without a gate")
        return None, exc.message
    console.print(report.table())
    if report.passed:
        return report, None
    if not force:
        raise _refusal(report, head.label())
    return report, f"the gate refused: {report.summary()}"


# what each refusing verdict says, and how to fix it
_PROBLEMS = {"worse": "is worse than", "incomparable": "cannot be compared with",
             "removed": "drops models served by"}
_FIXES = {"worse": "improve the model", "incomparable": "keep the primary metric",
          "removed": "keep every served model in the release (a rename is a removal)"}


def _refusal(report: GateReport, champion: str) -> GateRefused:
    verdicts = [v for v in _PROBLEMS if any(row.verdict == v for row in report.refusing)]
    problem = _PROBLEMS[verdicts[0]] if len(verdicts) == 1 else "is refused against"
    fixes = ", ".join(_FIXES[v] for v in verdicts)
    return GateRefused(
        f"the challenger {problem} the champion {champion} ({report.summary()}); "
        "nothing was published",
        hint=f"{fixes}; or publish anyway with --force (recorded as FORCED)",
    )


def _check_restorable(manifest: Manifest, *, label: str, sha: str) -> None:
    """A rollback publishes old pickles: refuse those the backend will refuse."""
    mismatch = sklearn_mismatch(manifest)
    if mismatch is None:
        return
    source = manifest.source.git_commit or "(not recorded)"
    raise IncompatibleRelease(
        f"cannot roll back to {label} ({sha[:12]}): its models were {mismatch}, so the "
        "backend would refuse them; nothing was published",
        hint=f"retrain from that release's source commit {source} and publish the result",
    )


def _signed_as_wanted(registry: Registry, head: _Head, key: SigningKey | None,
                      console: Any) -> bool:
    """Whether the head needs no new commit for signing: no key here, or it verifies with it."""
    if key is None or head.release is None:
        return True
    from hubship.signing import verify_release

    try:
        verify_release(registry.fetch(head.release.sha), key.public, origin=head.label())
    except SignatureError:
        say(console, f"models unchanged, but {head.label()} does not verify with this signing "
                     "key: publishing them again, signed")
        return False
    return True


def _warn_unverified(trust: Trust, console: Any, *, what: str) -> None:
    if not trust.verifies:
        say(console, f"warning: {what} is not signature-checked before it is unpickled (set "
                     "HUBSHIP_SIGNING_KEY to sign releases and verify what is read back)")


def _tag(registry: Registry, sha: str, number: int, *, message: str) -> bool:
    """Tag `sha` as v<N>; False when a concurrent identical publish tagged that very commit.

    (The client skips a commit whose files all equal the branch head's and returns that head,
    so two identical publishes from one head end on the same commit. Tag writes are not
    retried after a timeout, so a 409 here is never our own earlier request.)
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


def _unchanged(head: _Head, console: Any, *, repaired: str | None) -> PublishResult:
    release = head.release
    number = release.manifest.release if release and release.manifest else None
    if release is None or release.manifest is None or number is None:
        raise ManifestError(
            f"the manifest on main ({head.refs.head}) has no release number",
            hint="publish with hubship, which numbers every release",
        )
    tag = tag_name(number)
    if repaired:
        # it was never tagged, so never deployed: production must still move to it
        say(console, f"models unchanged; {tag} ({release.sha}) was tagged just now, so "
                     "production moves to it")
        return PublishResult(True, release.sha, tag, number, release.manifest.forced, None)
    say(console, f"unchanged: {tag} ({release.sha}) is the latest release")
    return PublishResult(False, release.sha, tag, number, release.manifest.forced, None)


def _release_of(head: Release | None) -> int:
    return (head.manifest.release or 0) if head and head.manifest else 0


def _title(manifest: Manifest) -> str:
    source = manifest.source
    short = source.commit_label() or "unknown"
    subject = source.git_subject or "(no subject)"
    forced = " (FORCED past the gate)" if manifest.forced else ""
    return f"Release v{manifest.release}: {short} {subject}{forced}"
