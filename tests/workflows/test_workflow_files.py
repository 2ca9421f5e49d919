"""Static checks of the GitHub Actions workflows: the two linters CI would run, and the hygiene
rules the project promises (pinned actions, no template injection, secrets only where used).

`act` needs Docker, which is absent; running the pipeline's steps for real is another test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PIPELINE = WORKFLOWS / "model_pipeline.yml"
FILES = sorted(WORKFLOWS.glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
DEPLOY_SECRETS = {"RAILWAY_TOKEN", "RAILWAY_SERVICE_ID", "RAILWAY_ENVIRONMENT_ID",
                  "RENDER_DEPLOY_HOOK", "ADMIN_TOKEN"}


def tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps(workflow: dict[str, Any]):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def test_zizmor_finds_nothing_at_medium_or_above():
    done = subprocess.run(
        [tool("zizmor"), "--offline", "--min-severity", "medium", str(WORKFLOWS)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_match_the_github_schema():
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
         *map(str, FILES)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_hygiene(path: Path):
    text = path.read_text()
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}
    for job_id, job in workflow["jobs"].items():
        assert job.get("timeout-minutes"), f"{job_id} has no timeout-minutes"
        assert "secrets." not in str(job.get("env", {})), f"{job_id}: secrets in job-level env"
    for job_id, step in steps(workflow):
        if "uses" in step:
            assert PINNED.match(step["uses"]), f"{job_id}: {step['uses']} not pinned to a sha"
            line = next(ln for ln in text.splitlines() if step["uses"] in ln)
            assert re.search(r"# v\d", line), f"{job_id}: no version comment on {line.strip()}"
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
        if step.get("uses", "").startswith("actions/setup-python@"):
            assert step["with"]["python-version"] == "3.11"
            assert step["with"]["cache"] == "pip"
        # Template injection: expressions go through env:, never into the script itself.
        assert "${{" not in step.get("run", ""), f"{job_id}: expression inside run: {step}"


def test_pipeline_triggers_and_runs_one_at_a_time():
    workflow = load(PIPELINE)
    push = workflow["on"]["push"]
    assert push["branches"] == ["main"]
    assert set(push["paths"]) == {"models/**", "data/**", "requirements.txt",
                                  ".github/workflows/model_pipeline.yml"}
    assert workflow["on"]["workflow_dispatch"]["inputs"]["force"]["type"] == "boolean"
    assert workflow["concurrency"] == {"group": "model-pipeline-${{ github.ref }}",
                                       "cancel-in-progress": False}


def test_pipeline_steps_follow_the_loop():
    workflow = load(PIPELINE)
    publish_job, deploy_job = workflow["jobs"]["train-and-publish"], workflow["jobs"]["deploy"]
    runs = [step.get("run", "") for _, step in steps({"jobs": {"p": publish_job}})]
    order = [next(i for i, run in enumerate(runs) if needle in run)
             for needle in ("pip install -r requirements.txt", "hubship check-keys",
                            "python models/train.py", "python scripts/upload_models.py")]
    assert order == sorted(order)
    assert set(publish_job["outputs"]) == {"sha", "tag", "changed"}

    assert deploy_job["needs"] == "train-and-publish"
    assert deploy_job["environment"] == "production"
    deploy_runs = [step.get("run", "") for step in deploy_job["steps"]]
    # an unchanged release still reaches the deploy job: the deploy is skipped when production
    # already serves the release (or is pinned elsewhere), and then verify decides
    assert any(r.startswith("hubship deploy --if-needed --sha") for r in deploy_runs)
    assert deploy_runs[-1].startswith("hubship verify --sha")


DEPLOYING = {"DEPLOY_TARGET": "railway", "BACKEND_URL": "https://penguins.up.railway.app"}


def _runs(job: dict[str, Any], *, ref: str, changed: str = "true",
          variables: dict[str, str] = DEPLOYING) -> bool:
    """Whether GitHub would run `job`, with the expression evaluator the run test uses."""
    from tests.support.actions_runner import Context

    context = Context(github={"ref": ref}, vars=variables,
                      needs={"train-and-publish": {"changed": changed, "sha": "a" * 40}})
    return "if" not in job or bool(context.value(job["if"]))


@pytest.mark.parametrize("changed", ["true", "false"])
def test_both_jobs_run_on_main_changed_or_not(changed: str):
    jobs = load(PIPELINE)["jobs"]
    assert _runs(jobs["train-and-publish"], ref="refs/heads/main", changed=changed)
    assert _runs(jobs["deploy"], ref="refs/heads/main", changed=changed)


@pytest.mark.parametrize("variables", [{}, {"DEPLOY_TARGET": "none"},
                                       {"DEPLOY_TARGET": "", "BACKEND_URL": ""}])
def test_a_publish_only_repo_skips_the_deploy_job(variables: dict[str, str]):
    """No target and no backend (the README allows it): nothing to deploy or verify, so the
    run must not go red on a verify that cannot run."""
    jobs = load(PIPELINE)["jobs"]
    assert _runs(jobs["train-and-publish"], ref="refs/heads/main", variables=variables)
    assert not _runs(jobs["deploy"], ref="refs/heads/main", variables=variables)


@pytest.mark.parametrize("variables", [
    {"DEPLOY_TARGET": "railway"},  # no BACKEND_URL: the deploy step refuses (ConfigError)
    {"BACKEND_URL": "https://penguins.up.railway.app"},  # the backend polls: verify only
    {"DEPLOY_TARGET": "none", "BACKEND_URL": "https://penguins.up.railway.app"},
    DEPLOYING,
])
def test_the_deploy_job_runs_when_there_is_something_to_deploy_or_verify(variables):
    assert _runs(load(PIPELINE)["jobs"]["deploy"], ref="refs/heads/main", variables=variables)


@pytest.mark.parametrize(("said", "verified"), [("true", True), ("", True), ("false", False)])
def test_verify_is_skipped_only_when_the_deploy_step_says_nothing_to_verify(said, verified):
    """`hubship deploy --if-needed` writes verify=false only for a pinned production and an
    unchanged release; anything else (even no output at all) must verify."""
    from tests.support.actions_runner import Context

    deploy_job = load(PIPELINE)["jobs"]["deploy"]
    [deploy_step] = [s for s in deploy_job["steps"] if s.get("id") == "deploy"]
    assert deploy_step["run"].startswith("hubship deploy --if-needed")
    assert deploy_step["env"]["HUBSHIP_RELEASE_CHANGED"] == (
        "${{ needs.train-and-publish.outputs.changed }}")
    verify_step = deploy_job["steps"][-1]
    context = Context(steps={"deploy": {"verify": said} if said else {}})
    assert bool(context.value(verify_step["if"])) == verified


@pytest.mark.parametrize(("variables", "replicas"), [({}, "1"),
                                                     ({"HUBSHIP_VERIFY_REPLICAS": "3"}, "3")])
def test_verify_waits_for_the_replica_count_the_repository_sets(variables, replicas):
    from tests.support.actions_runner import Context

    verify_step = load(PIPELINE)["jobs"]["deploy"]["steps"][-1]
    assert verify_step["run"].startswith("hubship verify")
    setting = verify_step["env"]["HUBSHIP_VERIFY_REPLICAS"]
    assert Context(vars=variables).render(setting) == replicas


@pytest.mark.parametrize("ref", ["refs/heads/feature", "refs/tags/v1", "refs/pull/7/merge"])
def test_a_run_off_main_publishes_nothing(ref: str):
    """A manual run on a branch would publish unmerged models to the Hub's main."""
    workflow = load(PIPELINE)
    for job_id, job in workflow["jobs"].items():
        assert not _runs(job, ref=ref, changed="true"), f"{job_id} runs on {ref}"
    force = workflow["on"]["workflow_dispatch"]["inputs"]["force"]
    assert "main only" in force["description"]


def test_the_deploy_never_picks_a_code_commit():
    """Deploying github.sha could put an older backend commit back in production; a model
    release needs only a redeploy of the code running now."""
    deploy_job = load(PIPELINE)["jobs"]["deploy"]
    for step in deploy_job["steps"]:
        env = step.get("env", {})
        assert "HUBSHIP_DEPLOY_COMMIT" not in env, step.get("name")
        assert "github.sha" not in str(env) + step.get("run", ""), step.get("name")
        assert "--commit-sha" not in step.get("run", "")


def test_secrets_only_in_the_steps_that_use_them():
    workflow = load(PIPELINE)
    for job_id, step in steps(workflow):
        used = set(re.findall(r"secrets\.(\w+)", str(step.get("env", {}))))
        run = step.get("run", "")
        if "upload_models.py" in run:
            assert used == {"HF_TOKEN", "HUBSHIP_SIGNING_KEY"}
        elif run == "hubship check-keys":  # a malformed key fails before training
            assert used == {"HUBSHIP_SIGNING_KEY"}
        elif run.startswith("hubship deploy"):
            assert used == DEPLOY_SECRETS
        else:
            assert not used, f"{job_id}: step {step.get('name')} sees secrets {used}"
