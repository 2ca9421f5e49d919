"""Run a GitHub Actions workflow's `run:` steps locally, in order, as the runner would.

`act` needs Docker, which these machines lack; this is the honest stand-in. It evaluates the
`${{ }}` expressions the workflows use (secrets, vars, inputs, github, steps and needs
outputs, `||`, `&&`, `!`, `==`, `!=`, parentheses), skips a job or step whose `if:` is false,
gives each step its own `$GITHUB_OUTPUT`, runs it with
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


_TOKEN = re.compile(r"\s*(\|\||&&|==|!=|!|\(|\)|'[^']*'|[A-Za-z_][\w.-]*)")


@dataclass
class Context:
    secrets: dict[str, str] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    github: dict[str, str] = field(default_factory=dict)
    needs: dict[str, dict[str, str]] = field(default_factory=dict)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)

    def value(self, expr: str) -> str:
        """Evaluate an expression as GitHub does: `||` and `&&` give an operand's value,
        `==`/`!=` compare strings ignoring case, a missing value is ''. True is 'true',
        false is ''."""
        tokens = _tokenize(expr)
        result = self._or(tokens)
        if tokens:
            raise ValueError(f"cannot evaluate {expr!r} from {tokens[0]!r} on")
        return result

    def render(self, text: str) -> str:
        return _EXPR.sub(lambda m: self.value(m.group(1)), str(text))

    def _or(self, tokens: list[str]) -> str:
        left = self._and(tokens)
        while tokens[:1] == ["||"]:
            tokens.pop(0)
            right = self._and(tokens)
            left = left or right
        return left

    def _and(self, tokens: list[str]) -> str:
        left = self._compare(tokens)
        while tokens[:1] == ["&&"]:
            tokens.pop(0)
            right = self._compare(tokens)
            left = right if left else left
        return left

    def _compare(self, tokens: list[str]) -> str:
        left = self._unary(tokens)
        if tokens[:1] in (["=="], ["!="]):
            operator = tokens.pop(0)
            right = self._unary(tokens)
            equal = left.lower() == right.lower()
            return "true" if equal == (operator == "==") else ""
        return left

    def _unary(self, tokens: list[str]) -> str:
        token = tokens.pop(0)
        if token == "!":
            return "" if self._unary(tokens) else "true"
        if token == "(":
            inner = self._or(tokens)
            assert tokens.pop(0) == ")", "unbalanced parentheses"
            return inner
        if token.startswith("'"):
            return token[1:-1]
        if token in ("true", "false"):
            return "true" if token == "true" else ""
        head, _, rest = token.partition(".")
        if head in ("needs", "steps"):
            owner, _, key = rest.partition(".outputs.")
            return getattr(self, head).get(owner, {}).get(key, "")
        return str(getattr(self, head).get(rest, ""))


def _tokenize(expr: str) -> list[str]:
    tokens, position, expr = [], 0, expr.strip()
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if not match:
            raise ValueError(f"cannot read {expr[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


@dataclass
class StepRun:
    job: str
    name: str
    returncode: int
    output: str
    skipped: bool = False  # its `if:` was false


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
        if "if" in step and not context.value(step["if"]):
            if log is not None:
                log.append(StepRun(job_id, step.get("name", step["run"][:40]), 0, "",
                                   skipped=True))
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
