"""`hubship run` end to end, as a user runs it next to a live backend: the first run ships v1;
a changed hyperparameter ships v2 and the same backend process serves it without a restart;
a run with no change publishes nothing and skips deploy and verify."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from hubship.services import Service, free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "e2e-admin-token"

pytestmark = pytest.mark.slow


def _hubship_run(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubship", "run"], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=600,
    )


def test_run_ships_a_changed_model_and_the_backend_serves_it_without_restart(
    hub_url: str, repo_id: str, tmp_path: Path,
):
    project = tmp_path / "project"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(project)], check=True)
    python_path = f"{project / 'src'}:{project}"
    port = free_port()
    backend_url = f"http://127.0.0.1:{port}"
    common = {"HF_ENDPOINT": hub_url, "HF_REPO_ID": repo_id, "ADMIN_TOKEN": ADMIN_TOKEN,
              "PYTHONPATH": python_path}
    backend = Service(
        "backend", [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
                    "--port", str(port), "--no-access-log"],
        url=backend_url, health_url=f"{backend_url}/health", cwd=project,
        env={**common, "HUBSHIP_HOME": str(tmp_path / "backend-home"),
             "HUBSHIP_ASSETS_DIR": str(tmp_path / "no-bundled-models")},
        log_path=tmp_path / "backend.log",
    )
    summary = tmp_path / "step-summary.md"
    env = {**os.environ, **common, "BACKEND_URL": backend_url, "DEPLOY_TARGET": "webhook",
           "HUBSHIP_HOME": str(tmp_path / "runner-home"), "GITHUB_STEP_SUMMARY": str(summary),
           "HUBSHIP_VERIFY_TIMEOUT": "60", "COLUMNS": "200"}

    with backend:
        first = _hubship_run(project, env)
        assert first.returncode == 0, first.stdout + first.stderr
        v1 = httpx.get(f"{backend_url}/version").json()
        assert v1["tag"] == "v1" and v1["source"] == "hub"
        assert f"production serves v1 ({v1['sha']})" in first.stdout

        train = project / "models" / "train.py"
        source = train.read_text()
        changed = re.sub(r"^BODY_MASS_ALPHA = .*$", "BODY_MASS_ALPHA = 0.5", source, flags=re.M)
        assert changed != source, "models/train.py no longer has BODY_MASS_ALPHA"
        train.write_text(changed)

        second = _hubship_run(project, env)
        assert second.returncode == 0, second.stdout + second.stderr
        v2 = httpx.get(f"{backend_url}/version").json()
        assert v2["tag"] == "v2" and v2["sha"] != v1["sha"]
        assert backend.process.poll() is None  # the same process: hot reload, no restart
        prediction = httpx.post(f"{backend_url}/models/body_mass/predict", json={
            "species": "Gentoo", "island": "Biscoe", "bill_length_mm": 47.5,
            "bill_depth_mm": 15.0, "flipper_length_mm": 217, "sex": "male",
        })
        assert prediction.status_code == 200, prediction.text
        assert prediction.json()["sha"] == v2["sha"]

        third = _hubship_run(project, env)
        assert third.returncode == 0, third.stdout + third.stderr
        assert f"unchanged: production stays at v2 ({v2['sha']})" in third.stdout
        assert httpx.get(f"{backend_url}/version").json()["sha"] == v2["sha"]

    report = summary.read_text()
    assert report.count("## hubship run") == 3
    assert "| deploy | skipped |" in report  # the third run
    assert ADMIN_TOKEN not in first.stdout + second.stdout + third.stdout + report
