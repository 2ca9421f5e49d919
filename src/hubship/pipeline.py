"""The loop, in order: train -> gate -> publish -> deploy -> verify.

`hubship run` calls this; the Actions workflow calls the same functions one step at a time
(`python models/train.py`, `python scripts/upload_models.py`, `hubship deploy --if-needed`,
`hubship verify`). It stops at the first failing step with its reason, prints a summary table,
and appends the same table to `$GITHUB_STEP_SUMMARY` when that is set. Each step has its own
section: its work (a Rich status while it runs), then one line with its outcome and time; the
gate's table shows under "gate", before the publish section starts.

Before deploying, production's `/version` is read when BACKEND_URL is set: a release it serves
already is not deployed again; an unchanged release it does not serve is deployed now (the
catch-up after a failed deploy or verify). A production pinned to another revision
(MODEL_REVISION) is never deployed: fine for an unchanged release (nothing new to serve), a
failure for a new one (it would never be served). The headline never claims a production
state it did not check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hubship.config import Settings
from hubship.errors import GateRefused, HubshipError, redact
from hubship.github import append_summary

if TYPE_CHECKING:
    from hubship.gate import GateReport
    from hubship.release import Trust
    from hubship.signing import SigningKey

Status = Literal["ok", "skipped", "failed", "not run"]
STEPS = ("train", "gate", "publish", "deploy", "verify")


@dataclass
class StepResult:
    name: str
    status: Status = "not run"
    detail: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Skipped:
    """What a step returns when it had nothing to do, and why."""

    reason: str


@dataclass
class PipelineSummary:
    steps: dict[str, StepResult] = field(
        default_factory=lambda: {name: StepResult(name) for name in STEPS}
    )
    sha: str | None = None
    tag: str | None = None
    changed: bool = False
    caught_up: bool = False  # unchanged, but production served something else: deployed again
    pinned_to: str | None = None  # unchanged, and production watches this revision, not main
    verified: bool = False
    error: HubshipError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def headline(self) -> str:
        if self.error is not None:
            failed = next((s.name for s in self.steps.values() if s.status == "failed"), "?")
            return f"FAILED at {failed}: {self.error.message}"
        if self.changed:
            if self.verified:
                return f"production serves {self.tag} ({self.sha})"
            return f"published {self.tag} ({self.sha}); NOT verified: set BACKEND_URL to prove it"
        if self.pinned_to:
            return (f"unchanged: {self.tag} is the latest release; production is pinned to "
                    f"{self.pinned_to} (MODEL_REVISION), so nothing was deployed or verified")
        if not self.verified:
            return (f"unchanged: {self.tag} is the latest release "
                    "(production not checked: no BACKEND_URL)")
        if self.caught_up:
            return f"unchanged: production caught up and serves {self.tag} ({self.sha})"
        return f"unchanged: production already serves {self.tag} ({self.sha})"


@dataclass
class PipelineRun:
    """What the steps share: the settings, the publisher's keys, and the summary they fill."""

    settings: Settings
    console: Console
    force: bool
    trust: Trust
    signing_key: SigningKey | None
    summary: PipelineSummary = field(default_factory=PipelineSummary)


Step = Callable[[PipelineRun], "str | Skipped"]


def run_pipeline(
    settings: Settings, *, force: bool = False, console: Console | None = None,
) -> PipelineSummary:
    """Run the five steps; never raises for a step's failure (the summary carries it).

    Raises ConfigError at once, before training, when the settings cannot prove a deploy or
    a signing key is malformed.
    """
    from hubship.deploy import check_verifiable
    from hubship.release import Trust

    check_verifiable(settings)
    trust, signing_key = Trust.for_publisher(settings)
    run = PipelineRun(settings, console or Console(), force, trust, signing_key)
    for name, step in PLAN:
        if not run_step(run, name, step):
            break
    _report(run.summary, settings, run.console)
    return run.summary


def run_step(run: PipelineRun, name: str, step: Step) -> bool:
    """Run one step, timed, and record its outcome; False when the pipeline must stop."""
    result = run.summary.steps[name]
    run.console.rule(f"[bold]{'gate' if name == 'publish' else name}")  # the gate comes first
    started = time.monotonic()
    try:
        if name == "train":  # training shows its own status: its output lines
            outcome = step(run)
        else:
            with run.console.status(f"{name}…"):
                outcome = step(run)
    except HubshipError as exc:
        refused = isinstance(exc, GateRefused)  # the gate step carries the refusal
        result.status, result.detail = ("not run", "") if refused else ("failed", exc.message)
        run.summary.error = exc
        return False
    finally:
        result.seconds = _own_seconds(run.summary, name, time.monotonic() - started)
    if isinstance(outcome, Skipped):
        result.status, result.detail = "skipped", outcome.reason
        run.console.print(Text(f"{name} skipped: {outcome.reason} ({result.seconds:.1f} s)",
                               style="yellow"))
    else:
        result.status, result.detail = "ok", outcome
        run.console.print(Text(f"{name}: {outcome} ({result.seconds:.1f} s)", style="green"))
    return True


def _own_seconds(summary: PipelineSummary, name: str, seconds: float) -> float:
    """A step's own time: the publish step ran the gate first, which has its own row."""
    return seconds - summary.steps["gate"].seconds if name == "publish" else seconds


# ---- the steps, in order ---------------------------------------------------------------------


def train(run: PipelineRun) -> str:
    """Step 1: run the training command; the detail is each model's primary metric."""
    from hubship.training import run_training

    with run.console.status("training") as status:
        manifest = run_training(  # training output is not Rich markup
            run.settings, on_line=lambda line: status.update(Text(f"training: {line[:90]}"))
        )
    return ", ".join(
        f"{name} {m.primary_metric.name}={m.metrics[m.primary_metric.name]:.4g}"
        for name, m in manifest.models.items()
    )


def gate_and_publish(run: PipelineRun) -> str:
    """Steps 2 and 3: `publish` gates, then commits and tags; the gate's row is filled here."""
    from hubship.publish import publish
    from hubship.registry import Registry
    from hubship.services import start_local_hub_if_used

    settings, summary = run.settings, run.summary
    registry = Registry.from_settings(settings)
    start_local_hub_if_used(settings, run.console)
    gate_step, started = summary.steps["gate"], time.monotonic()

    def gated(report: GateReport | None) -> None:  # let through: the publish section starts
        gate_step.seconds = time.monotonic() - started
        verdict = ("no champion: first release" if report is None
                   else "passed" if report.passed else "refused, FORCED past it")
        run.console.print(Text(f"gate: {verdict} ({gate_step.seconds:.1f} s)", style="green"))
        run.console.rule("[bold]publish")

    try:
        result = publish(registry, settings.assets_dir, force=run.force, console=run.console,
                         trust=run.trust, signing_key=run.signing_key, on_gated=gated)
    except GateRefused as exc:
        gate_step.status, gate_step.detail = "failed", exc.message
        gate_step.seconds = time.monotonic() - started
        raise
    if not result.changed:
        gate_step.status, gate_step.detail = "skipped", "models unchanged"
    elif result.gate is None:
        gate_step.status, gate_step.detail = "ok", "no champion: first release"
    else:
        gate_step.status = "ok"
        gate_step.detail = (f"FORCED: {result.forced_because or 'past a refusal'}"
                            if result.forced else "challenger passed")
    summary.sha, summary.tag, summary.changed = result.sha, result.tag, result.changed
    if not result.changed:
        return f"unchanged: {result.tag} ({result.sha[:12]}) is the latest release"
    return (f"{result.tag} = {result.sha[:12]}" + (" (signed)" if result.signed else "")
            + (" (forced)" if result.forced else ""))


def deploy(run: PipelineRun) -> str | Skipped:
    """Step 4: deploy a new release, or catch up a production that does not serve the head."""
    from hubship.deploy import deploy_if_needed, describe

    settings, summary = run.settings, run.summary
    if not summary.changed and not settings.backend_url:
        return Skipped("release unchanged; production not checked (no BACKEND_URL)")
    assert summary.sha is not None  # set by the publish step, which ran before
    done = deploy_if_needed(settings, sha=summary.sha, changed=summary.changed,
                            label=summary.tag, commit_sha=settings.deploy_commit)
    if done.skipped is not None:
        summary.pinned_to = done.skipped.pinned_to
        return Skipped(done.skipped.reason)
    catch_up = ""
    if not summary.changed:  # production did not serve the latest release: catch up
        summary.caught_up = True
        catch_up = (f"catch-up: production serves {describe(done.served_before)}"
                    if done.served_before
                    else "catch-up: production serves no release (or did not answer)")
    assert done.result is not None  # not skipped: deploy_if_needed started one
    detail = "; ".join(p for p in (catch_up, done.result.detail) if p)
    return detail if done.result.triggered else Skipped(detail)


def verify(run: PipelineRun) -> str | Skipped:
    """Step 5: poll production's /version until it serves the release."""
    settings, summary = run.settings, run.summary
    if not settings.backend_url:
        return Skipped("no BACKEND_URL: nothing proves what production serves")
    if summary.pinned_to:
        return Skipped(f"production is pinned to {summary.pinned_to} (MODEL_REVISION), "
                       "and nothing new was published: nothing to verify")
    from hubship.deploy import verify_live

    assert summary.sha is not None  # set by the publish step, which ran before
    version = verify_live(settings.backend_url, summary.sha, timeout=settings.verify_timeout,
                          replicas=settings.verify_replicas)
    summary.verified = True
    return f"{settings.backend_url} serves {version.tag} ({summary.sha[:12]})"


# the gate runs inside publish (a lost race re-gates), so it has no entry of its own
PLAN: tuple[tuple[str, Step], ...] = (
    ("train", train), ("publish", gate_and_publish), ("deploy", deploy), ("verify", verify),
)


def _report(summary: PipelineSummary, settings: Settings, console: Console) -> None:
    """The summary table and headline; every detail is shown as plain text, never markup."""
    secrets = settings.secrets()
    table = Table(title="hubship run")
    for column in ("step", "status", "time", "detail"):
        table.add_column(column)
    colour = {"ok": "green", "skipped": "yellow", "failed": "red", "not run": "dim"}
    for step in summary.steps.values():
        table.add_row(step.name, Text(step.status, style=colour[step.status]),
                      f"{step.seconds:.1f}s" if step.status != "not run" else "",
                      Text(redact(step.detail, secrets)))
    console.print(table)
    console.print(Text(redact(summary.headline, secrets),
                       style="bold green" if summary.ok else "bold red"))
    def cell(text: str) -> str:
        return " ".join(redact(text, secrets).split()).replace("|", "\\|")

    lines = ["## hubship run", "", "| step | status | time | detail |", "| --- | --- | --- | --- |"]
    lines += [f"| {s.name} | {s.status} | {s.seconds:.1f}s | {cell(s.detail)} |"
              for s in summary.steps.values()]
    lines += ["", f"**{cell(summary.headline)}**", ""]
    append_summary("\n".join(lines))
