"""The real backend and the `hubship frontend` server as subprocesses, for the browser tests."""

from __future__ import annotations

import sys
from pathlib import Path

from hubship.services import Service, free_port

ROOT = Path(__file__).resolve().parents[2]


def backend_service(hub_url: str, repo_id: str, home: Path, *, port: int,
                    wait_for: str = "/ready", assets_dir: Path | None = None,
                    env: dict[str, str] | None = None) -> Service:
    """The real backend (`uvicorn backend.main:app`) serving `repo_id` from the local hub;
    `start()` returns once `wait_for` answers (/ready: a release is loaded). Its bundled
    fallback is `assets_dir`, or none (an empty folder); `env` adds settings."""
    if assets_dir is None:
        assets_dir = home / "assets"
        assets_dir.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    return Service(
        "backend",
        [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
         "--port", str(port)],
        url=url, health_url=f"{url}{wait_for}", cwd=ROOT, log_path=home / "backend.log",
        env={"HF_ENDPOINT": hub_url, "HF_REPO_ID": repo_id, "MODEL_REVISION": "main",
             "HUBSHIP_HOME": str(home), "HUBSHIP_ASSETS_DIR": str(assets_dir),
             "HF_HOME": str(home / "hf-home"), **(env or {})},
    )


def frontend_service(dist: Path, backend_url: str, log_path: Path) -> Service:
    """`hubship frontend` serving `dist` and forwarding /api to `backend_url`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return Service(
        "frontend",
        [sys.executable, "-m", "hubship", "frontend", "--port", str(port),
         "--backend-url", backend_url, "--dist", str(dist), "--no-build"],
        url=url, log_path=log_path,
    )
