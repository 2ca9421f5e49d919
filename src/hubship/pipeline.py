"""The loop, in order: train -> gate -> publish -> deploy -> verify.

`hubship run` calls this; the Actions workflow calls the same functions one step at a time
(`python models/train.py`, `python scripts/upload_models.py`, `hubship deploy`, `hubship verify`).
It stops at the first failing step with its reason, prints a summary table, and appends the
same table to `$GITHUB_STEP_SUMMARY` when that is set.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.table import Table

from hubship.config import Settings
from hubship.errors import GateRefused, HubshipError, redact

Status = Literal["ok", "skipped", "failed", "not run"]
STEPS = ("train", "gate", "publish", "deploy", "verify")


@dataclass
class StepResult:
    name: str
    status: Status = "not run"
    detail: str = ""
    seconds: float = 0.0


@dataclass
class PipelineSummary:
    steps: dict[str, StepResult] = field(
        default_factory=lambda: {name: StepResult(name) for name in STEPS}
    )
    sha: str | None = None
    tag: str | None = None
    changed: bool = False
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
        if not self.changed:
            return f"unchanged: production stays at {self.tag} ({self.sha})"
        if self.verified:
            return f"production serves {self.tag} ({self.sha})"
        return f"published {self.tag} ({self.sha}); NOT verified: set BACKEND_URL to prove it"


def run_pipeline(
    settings: Settings, *, force: bool = False, console: Console | None = None,
) -> PipelineSummary:
    """Run the five steps; never raises for a step's failure (the summary carries it)."""
    console = console or Console()
    summary = PipelineSummary()
    published: dict[str, object] = {}

    def train() -> str:
        from hubship.training import run_training

        with console.status("training") as status:
            manifest = run_training(
                settings, on_line=lambda line: status.update(f"training: {line[:90]}")
            )
        return ", ".join(
            f"{name} {m.primary_metric.name}={m.metrics[m.primary_metric.name]:.4g}"
            for name, m in manifest.models.items()
        )

    def gate_and_publish() -> str:
        from hubship.publish import publish
        from hubship.registry import Registry

        registry = Registry.from_settings(settings, console=console)
        try:
            result = publish(registry, settings.assets_dir, force=force, console=console)
        except GateRefused as exc:
            summary.steps["gate"].status = "failed"
            summary.steps["gate"].detail = exc.message
            raise
        gate_step = summary.steps["gate"]
        if not result.changed:
            gate_step.status, gate_step.detail = "skipped", "models unchanged"
        elif result.gate is None:
            gate_step.status, gate_step.detail = "ok", "no champion: first release"
        else:
            gate_step.status = "ok"
            gate_step.detail = (f"FORCED: {result.forced_because or 'past a refusal'}"
                                if result.forced else "challenger passed")
        summary.sha, summary.tag, summary.changed = result.sha, result.tag, result.changed
        published["result"] = result
        if not result.changed:
            return f"unchanged: production stays at {result.tag} ({result.sha[:12]})"
        return f"{result.tag} = {result.sha[:12]}" + (" (forced)" if result.forced else "")

    def deploy() -> str | None:
        if not summary.changed:
            return None
        from hubship.deploy import trigger

        result = trigger(settings, sha=summary.sha,
                         commit_sha=os.environ.get("HUBSHIP_DEPLOY_COMMIT"))
        return getattr(result, "detail", None) or f"{settings.deploy_target} triggered"

    def verify() -> str | None:
        if not summary.changed or not settings.backend_url:
            return None
        from hubship.deploy import verify_live

        version = verify_live(settings.backend_url, summary.sha, timeout=settings.verify_timeout)
        summary.verified = True
        return f"{settings.backend_url} serves {version.get('tag')} ({summary.sha[:12]})"

    plan: list[tuple[str, Callable[[], str | None]]] = [
        ("train", train), ("publish", gate_and_publish), ("deploy", deploy), ("verify", verify),
    ]
    for name, action in plan:
        step = summary.steps[name]
        console.rule(f"[bold]{name}")
        started = time.monotonic()
        try:
            detail = action()
        except HubshipError as exc:
            refused = isinstance(exc, GateRefused)
            step.status, step.detail = ("not run", "") if refused else ("failed", exc.message)
            summary.error = exc
            step.seconds = time.monotonic() - started
            break
        step.seconds = time.monotonic() - started
        if detail is None:
            step.status, step.detail = "skipped", _skip_reason(name, summary, settings)
        else:
            step.status, step.detail = "ok", detail
    _report(summary, settings, console)
    return summary


def _skip_reason(name: str, summary: PipelineSummary, settings: Settings) -> str:
    if not summary.changed:
        return "release unchanged"
    if name == "verify" and not settings.backend_url:
        return "no BACKEND_URL: nothing proves what production serves"
    return "nothing to do"


def _report(summary: PipelineSummary, settings: Settings, console: Console) -> None:
    secrets = settings.secrets()
    table = Table(title="hubship run")
    for column in ("step", "status", "time", "detail"):
        table.add_column(column)
    colour = {"ok": "green", "skipped": "yellow", "failed": "red", "not run": "dim"}
    for step in summary.steps.values():
        table.add_row(step.name, f"[{colour[step.status]}]{step.status}[/]",
                      f"{step.seconds:.1f}s" if step.status != "not run" else "",
                      redact(step.detail, secrets))
    console.print(table)
    console.print(("[bold green]" if summary.ok else "[bold red]") + redact(summary.headline,
                                                                            secrets))
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        lines = ["## hubship run", "", "| step | status | time | detail |",
                 "| --- | --- | --- | --- |"]
        lines += [
            f"| {s.name} | {s.status} | {s.seconds:.1f}s | {redact(s.detail, secrets)} |"
            for s in summary.steps.values()
        ]
        lines += ["", f"**{redact(summary.headline, secrets)}**", ""]
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
