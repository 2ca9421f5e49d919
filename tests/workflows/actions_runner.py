"""Run a GitHub Actions workflow's `run:` steps locally, in order, as the runner would.

`act` needs Docker, which these machines lack; this is the honest stand-in. It evaluates the
`${{ }}` expressions the workflows use (secrets, vars, inputs, github, steps and needs
outputs, `a || 'b'`, `x == 'y'`), gives each step its own `$GITHUB_OUTPUT`, runs it with
`bash --noprofile --norc -eo pipefail` like the hosted runner, and collects job outputs.
`uses:` steps (checkout, setup-python) and dependency installs are the caller's job.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_EXPR = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


@dataclass
class Context:
    secrets: dict[str, str] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    github: dict[str, str] = field(default_factory=dict)
    needs: dict[str, dict[str, str]] = field(default_factory=dict)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)

    def value(self, expr: str) -> str:
        expr = expr.strip()
        if "||" in expr:
            for part in expr.split("||"):
                if value := self.value(part):
                    return value
            return ""
        if "==" in expr:
            left, right = (self.value(p) for p in expr.split("=="))
            return "true" if left == right else ""
        if expr.startswith("'") and expr.endswith("'"):
            return expr[1:-1]
        head, _, rest = expr.partition(".")
        if head in ("needs", "steps"):
            owner, _, key = rest.partition(".outputs.")
            return getattr(self, head).get(owner, {}).get(key, "")
        return str(getattr(self, head).get(rest, ""))

    def render(self, text: str) -> str:
        return _EXPR.sub(lambda m: self.value(m.group(1)), str(text))


@dataclass
class StepRun:
    job: str
    name: str
    returncode: int
    output: str


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def run_job(
    workflow: dict, job_id: str, context: Context, *, cwd: Path, base_env: dict[str, str],
    skip: callable = lambda step: False, log: list[StepRun] | None = None,
) -> dict[str, str] | None:
    """Run one job's `run:` steps; return its outputs, or None when its `if:` is false."""
    job = workflow["jobs"][job_id]
    if "if" in job and not context.value(job["if"]):
        return None
    context.steps = {}
    for index, step in enumerate(job["steps"]):
        if "run" not in step or skip(step):
            continue
        output_file = cwd.parent / f"github-output-{job_id}-{index}"
        output_file.write_text("")
        env = {**base_env, "GITHUB_OUTPUT": str(output_file),
               **{k: context.render(v) for k, v in step.get("env", {}).items()}}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
        )
        name = step.get("name", step["run"][:40])
        if log is not None:
            log.append(StepRun(job_id, name, done.returncode, done.stdout + done.stderr))
        if done.returncode != 0:
            raise AssertionError(
                f"step {name!r} of job {job_id!r} failed ({done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}"
            )
        if "id" in step:
            context.steps[step["id"]] = dict(
                line.split("=", 1) for line in output_file.read_text().splitlines()
                if "=" in line
            )
    return {k: context.render(v) for k, v in job.get("outputs", {}).items()}


def job_order(workflow: dict) -> list[str]:
    """Jobs in an order that respects `needs:`."""
    order: list[str] = []
    pending = dict(workflow["jobs"])
    while pending:
        for job_id, job in list(pending.items()):
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            if all(n in order for n in needs):
                order.append(job_id)
                del pending[job_id]
    return order


def base_environment(extra: dict[str, str]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "HF_HOME", "HF_HUB_DISABLE_TELEMETRY",
                     "HF_HUB_DISABLE_PROGRESS_BARS", "TMPDIR")}
    return {**keep, "GITHUB_ACTIONS": "true", "CI": "true", **extra}
