"""Shared fixtures.

Every test runs with its own HF_HOME and a disabled telemetry ping. A session-wide local hub
(`hubship hub` in a subprocess on a free loopback port) is started on first use;
HF_ENDPOINT points at it and is set here, before anything imports `huggingface_hub`.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="hubship-tests-"))
with socket.socket() as _sock:
    _sock.bind(("127.0.0.1", 0))
    HUB_PORT = _sock.getsockname()[1]
HUB_URL = f"http://127.0.0.1:{HUB_PORT}"
os.environ["HF_ENDPOINT"] = HUB_URL
os.environ["HF_HOME"] = str(_SESSION_DIR / "hf-home")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ.pop("HF_HUB_DISABLE_XET", None)  # `import hubship` decides, as in production

# Imported once HF_ENDPOINT names the local hub: hubship then makes huggingface_hub upload
# large files through LFS, not Xet (hubship.local_hub_client).
from hubship.services import hub_service  # noqa: E402
from tests.support.environment import isolate_environment  # noqa: E402
from tests.support.real_releases import (  # noqa: E402
    RealReleases,
    make_real_releases,
    train_release,
)

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
# Debian's Chromium (what `make test` installs), or a Chrome already on the machine (GitHub's
# Ubuntu runners ship one); HUBSHIP_CHROMIUM names another.
CHROMIUM = next(
    (Path(p) for p in (os.environ.get("HUBSHIP_CHROMIUM"), "/usr/bin/chromium",
                       "/usr/bin/chromium-browser", "/usr/bin/google-chrome") if p
     and Path(p).is_file()),
    Path("/usr/bin/chromium"),
)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def hub_url() -> str:
    """URL of the session's local hub (started on first use, stopped at the end)."""
    service = hub_service(_SESSION_DIR / "hub-data", port=HUB_PORT,
                          log_path=_SESSION_DIR / "hub.log")
    service.start()
    yield service.url
    service.stop()


@pytest.fixture(scope="session")
def hub_log(hub_url: str) -> Path:
    """The session hub's log: a line per request, "<METHOD> <path> <status> <time>"."""
    return _SESSION_DIR / "hub.log"


@pytest.fixture(scope="session")
def real_releases(hub_url: str, tmp_path_factory: pytest.TempPathFactory) -> RealReleases:
    """v1 and v2 as `models/train.py` and `scripts/upload_models.py` make them (v2 after a
    data push), on a repo of the session hub that no test changes (the backend tests replay
    them; the hub fault test publishes what train.py wrote, `.assets`, to a hub of its own)."""
    return make_real_releases(hub_url, f"tests/penguins-{uuid.uuid4().hex[:8]}",
                              tmp_path_factory.mktemp("real-releases"))


@pytest.fixture(scope="session")
def trained_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release `python models/train.py` writes in this checkout, trained once per session
    for the training, publish and trust tests. Read it, never change it: `trained` is a copy."""
    return train_release(tmp_path_factory.mktemp("trained") / "model_assets")


@pytest.fixture
def trained(trained_once: Path, tmp_path: Path) -> Path:
    """A fresh copy of `trained_once` for one test to change."""
    return Path(shutil.copytree(trained_once, tmp_path / "release"))


@pytest.fixture
def hf_api(hub_url: str):
    """The real `huggingface_hub.HfApi` pointed at the session's local hub."""
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_url, token="test-token")


@pytest.fixture
def repo_id() -> str:
    """A fresh, unused model repo id, so tests sharing the session hub never collide."""
    return f"tests/repo-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def hf_cache(tmp_path: Path) -> Path:
    """A private Hugging Face cache folder for one test."""
    path = tmp_path / "hf-cache"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every hubship setting cleared (derived from `Settings`: tests.support.environment) but
    the session's hub and the test's own HUBSHIP_HOME."""
    isolate_environment(monkeypatch, {"HF_ENDPOINT": HUB_URL,
                                      "HUBSHIP_HOME": str(tmp_path / ".hubship")})


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.is_file() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); "
                    "Playwright's own browser download does not work here")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
