"""`hubship run` end to end, as a user runs it next to a live backend: the first run ships v1;
a changed model published while nothing deploys (DEPLOY_TARGET=none, no BACKEND_URL) leaves
production on v1, and the next, unchanged run catches up: it deploys v2 and proves the same
backend process serves it; a run after that finds production already serving v2 and deploys
nothing. Pinned to v1 (what MODEL_REVISION=v1 does), an unchanged run leaves production alone
and says so, and a changed run fails at deploy naming the pin."""

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


def test_run_ships_catches_up_after_an_undeployed_release_and_then_deploys_nothing(
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
    publish_only = {k: v for k, v in env.items() if k != "BACKEND_URL"} | {"DEPLOY_TARGET": "none"}

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

        # v2 is published, but nothing deploys it: production stays on v1 (no poll, no hook)
        second = _hubship_run(project, publish_only)
        assert second.returncode == 0, second.stdout + second.stderr
        v2_sha = re.search(r"published v2 \(([0-9a-f]{40})\); NOT verified", second.stdout)
        assert v2_sha, second.stdout
        v2_sha = v2_sha.group(1)
        assert httpx.get(f"{backend_url}/version").json()["sha"] == v1["sha"]

        # unchanged, but production is behind: deploy again and verify
        third = _hubship_run(project, env)
        assert third.returncode == 0, third.stdout + third.stderr
        assert f"unchanged: production caught up and serves v2 ({v2_sha})" in third.stdout
        assert f"catch-up: production serves {v1['sha'][:12]} (v1" in summary.read_text()
        v2 = httpx.get(f"{backend_url}/version").json()
        assert (v2["sha"], v2["tag"]) == (v2_sha, "v2")
        assert v2["revision"] == "main", "the deploy must not pin the backend to one sha"
        assert backend.process.poll() is None  # the same process: hot reload, no restart
        prediction = httpx.post(f"{backend_url}/models/body_mass/predict", json={
            "species": "Gentoo", "island": "Biscoe", "bill_length_mm": 47.5,
            "bill_depth_mm": 15.0, "flipper_length_mm": 217, "sex": "male",
        })
        assert prediction.status_code == 200, prediction.text
        assert prediction.json()["sha"] == v2_sha

        fourth = _hubship_run(project, env)
        assert fourth.returncode == 0, fourth.stdout + fourth.stderr
        assert f"deploy skipped: production already serves {v2_sha[:12]} (v2" in fourth.stdout
        assert f"unchanged: production already serves v2 ({v2_sha})" in fourth.stdout
        after = httpx.get(f"{backend_url}/version").json()
        assert (after["sha"], after["loaded_at"]) == (v2_sha, v2["loaded_at"])  # no reload
        report = summary.read_text()
        last = report.split("## hubship run")[-1]
        assert re.search(r"\| deploy \| skipped \| [\d.]+s \| production already serves "
                         f"{v2_sha[:12]} \\(v2", last)
        assert "| verify | ok |" in last

        # production pinned to v1 (as MODEL_REVISION=v1 would): an unchanged run leaves it be
        pin = httpx.post(f"{backend_url}/admin/reload", json={"revision": "v1"},
                         headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60)
        assert pin.status_code == 200, pin.text
        pinned = httpx.get(f"{backend_url}/version").json()
        assert (pinned["sha"], pinned["revision"]) == (v1["sha"], "v1")
        fifth = _hubship_run(project, env)
        assert fifth.returncode == 0, fifth.stdout + fifth.stderr
        assert "production is pinned to v1 (MODEL_REVISION); not deploying" in fifth.stdout
        assert ("unchanged: v2 is the latest release; production is pinned to v1 "
                "(MODEL_REVISION), so nothing was deployed or verified") in fifth.stdout
        assert httpx.get(f"{backend_url}/version").json()["loaded_at"] == pinned["loaded_at"]

        # a new release production would never serve: the run fails at deploy, not after verify
        train.write_text(re.sub(r"^BODY_MASS_ALPHA = .*$", "BODY_MASS_ALPHA = 2.0", source,
                                flags=re.M))
        sixth = _hubship_run(project, env)
        assert sixth.returncode == 1, sixth.stdout + sixth.stderr
        assert ("FAILED at deploy: published v3, but production is pinned to v1 by "
                "MODEL_REVISION, so it will not serve v3: unpin it (unset MODEL_REVISION)"
                in " ".join(sixth.stdout.split()))
        last = summary.read_text().split("## hubship run")[-1]
        assert "| verify | not run |" in last
        assert httpx.get(f"{backend_url}/version").json()["loaded_at"] == pinned["loaded_at"]

    report = summary.read_text()
    assert report.count("## hubship run") == 6
    outputs = "".join(run.stdout + run.stderr for run in
                      (first, second, third, fourth, fifth, sixth)) + report
    assert ADMIN_TOKEN not in outputs
