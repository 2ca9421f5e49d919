"""The model pipeline workflow, run for real: its `run:` steps in order in a temporary clone,
with its secrets and variables mapped to a local hub and a local backend. The publish job
signs with the HUBSHIP_SIGNING_KEY secret and the backend verifies with HUBSHIP_VERIFY_KEY.
Production must serve the sha the publish step reported, verified; a second run with no
change publishes nothing, its deploy job finds production already serving the release (no
deploy), and verify passes; a third run with neither DEPLOY_TARGET nor BACKEND_URL (publish
only) skips the deploy job."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from hubship.services import Service, free_port
from tests.support.actions_runner import (
    Context,
    StepRun,
    base_environment,
    job_order,
    load,
    run_job,
)
from tests.support.trust import key_files, pem_body_lines

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "model_pipeline.yml"
ADMIN_TOKEN = "workflow-test-admin-token"

pytestmark = pytest.mark.slow


def _is_install(step: dict) -> bool:
    """Dependency installs: the test's virtualenv already holds the pinned requirements."""
    return "pip install" in step["run"]


def test_the_test_environment_has_the_pinned_requirements():
    """What the skipped install steps would install is what the steps run with."""
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" not in line:
            continue
        name, pinned = line.split("==")
        assert version(name.split("[")[0]) == pinned, f"{name}: installed != pinned {pinned}"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True)
    return target


def _run_workflow(clone: Path, context: Context, env: dict[str, str],
                  log: list[StepRun]) -> dict[str, dict[str, str] | None]:
    workflow = load(clone / ".github" / "workflows" / "model_pipeline.yml")
    results: dict[str, dict[str, str] | None] = {}
    for job_id in job_order(workflow):
        outputs = run_job(workflow, job_id, context, cwd=clone, base_env=env, skip=_is_install,
                          log=log)
        results[job_id] = outputs
        context.needs[job_id] = outputs or {}
    return results


def test_workflow_publishes_deploys_and_production_serves_the_new_sha(
    hub_url: str, repo_id: str, clone: Path, tmp_path: Path,
):
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, check=True,
                          capture_output=True, text=True).stdout.strip()
    python_path = f"{clone / 'src'}:{clone}"
    key, _, public_key = key_files(tmp_path)
    port = free_port()
    backend = Service(
        "backend", [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
                    "--port", str(port), "--no-access-log"],
        url=f"http://127.0.0.1:{port}", health_url=f"http://127.0.0.1:{port}/health", cwd=clone,
        env={"HF_ENDPOINT": hub_url, "HF_REPO_ID": repo_id, "ADMIN_TOKEN": ADMIN_TOKEN,
             "HUBSHIP_HOME": str(tmp_path / "backend-home"), "PYTHONPATH": python_path,
             "HUBSHIP_ASSETS_DIR": str(tmp_path / "no-bundled-models"),
             "HUBSHIP_VERIFY_KEY": str(public_key)},
        log_path=tmp_path / "backend.log",
    )
    context = Context(
        secrets={"HF_TOKEN": "", "ADMIN_TOKEN": ADMIN_TOKEN,
                 "HUBSHIP_SIGNING_KEY": key.pem.decode()},
        vars={"HF_REPO_ID": repo_id, "HF_ENDPOINT": hub_url, "DEPLOY_TARGET": "webhook",
              "BACKEND_URL": backend.url},
        inputs={"force": "false"},
        github={"sha": head, "ref": "refs/heads/main"},
    )
    env = base_environment({
        "PATH": f"{Path(sys.executable).parent}:{base_environment({})['PATH']}",
        "PYTHONPATH": python_path, "HUBSHIP_HOME": str(tmp_path / "runner-home"),
        "GITHUB_SHA": head, "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    })
    log: list[StepRun] = []
    with backend:
        assert httpx.get(f"{backend.url}/ready").status_code == 503  # nothing published yet

        first = _run_workflow(clone, context, env, log)
        published = first["train-and-publish"]
        assert published["changed"] == "true"
        assert published["tag"] == "v1"
        assert len(published["sha"]) == 40
        assert first["deploy"] is not None, "the deploy job must run for a new release"
        served = httpx.get(f"{backend.url}/version").json()
        assert served["sha"] == published["sha"]
        assert served["tag"] == "v1"
        assert served["source"] == "hub"
        assert served["verified"] is True, "the backend verified the release's signature"
        assert served["revision"] == "main", "the deploy must not pin the backend to one sha"
        first_steps = len(log)

        context.needs.clear()
        second = _run_workflow(clone, context, env, log)
        assert second["train-and-publish"]["changed"] == "false"
        assert second["train-and-publish"]["sha"] == published["sha"]
        assert second["deploy"] is not None, "the deploy job runs for an unchanged release too"
        served = httpx.get(f"{backend.url}/version").json()
        assert served["sha"] == published["sha"]
        second_steps = len(log)

        # publish only (the README allows it): no DEPLOY_TARGET, no BACKEND_URL
        context.needs.clear()
        context.vars = {"HF_REPO_ID": repo_id, "HF_ENDPOINT": hub_url}
        third = _run_workflow(clone, context, env, log)
        assert third["train-and-publish"]["changed"] == "false"
        assert third["deploy"] is None, "nothing to deploy or verify: the job must be skipped"

    publish_steps = ["train-and-publish: Check the signing key", "train-and-publish: Train",
                     "train-and-publish: Gate and publish to the Hub"]
    assert [f"{s.job}: {s.name}" for s in log[second_steps:]] == publish_steps
    assert not any(line in s.output for s in log for line in pem_body_lines(key))
    log = log[:second_steps]
    ran = [f"{s.job}: {s.name}" for s in log]
    assert ran[:3] == publish_steps
    assert "releases will be signed" in log[0].output
    deploy_step = "deploy: Trigger the deploy unless production already serves the release"
    verify_step = "deploy: Verify production serves the release"
    assert ran[first_steps:] == [*publish_steps, deploy_step, verify_step]
    first_deploy, second_deploy = (s for s in log if f"{s.job}: {s.name}" == deploy_step)
    # The backend, not ready, retries the Hub on its own (after 1, 2, 4 ... s) and may find v1
    # before the deploy step checks it, or between that check and the reload it asks for;
    # either way the step succeeds with v1 served.
    sha = published["sha"][:12]
    assert " ".join(first_deploy.output.split()) in {  # as one line, however it was wrapped
        f"deploy started: the backend loaded {sha}, its first release (it served none before)",
        f"deploy started: the backend already served {sha}",
        f"deploy skipped: production already serves {sha} (v1, release 1, from hub)",
    }, first_deploy.output
    assert (f"deploy skipped: production already serves {published['sha'][:12]} (v1"
            in second_deploy.output)
    second_verify = log[-1]
    assert second_verify.returncode == 0 and published["sha"] in second_verify.output
