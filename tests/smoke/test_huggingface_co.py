"""Opt-in smoke test against the real huggingface.co.

The local hub always answers upload mode "regular"; huggingface.co answers "lfs" for
`*.joblib` and stores it with Xet, a path only the real service exercises. With a token this
test publishes the example release to a repo of yours and loads it back the way the backend
does. It is skipped unless both variables are set:

    HUBSHIP_SMOKE_HF_TOKEN=hf_...  HUBSHIP_SMOKE_REPO_ID=you/hubship-smoke  make test
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = os.environ.get("HUBSHIP_SMOKE_HF_TOKEN")
REPO_ID = os.environ.get("HUBSHIP_SMOKE_REPO_ID")
HUGGINGFACE_CO = "https://huggingface.co"

pytestmark = pytest.mark.skipif(
    not (TOKEN and REPO_ID),
    reason="set HUBSHIP_SMOKE_HF_TOKEN and HUBSHIP_SMOKE_REPO_ID to smoke-test huggingface.co",
)


def test_publish_to_huggingface_co_and_load_it_back(tmp_path: Path):
    from huggingface_hub import HfApi

    from hubship.config import Settings
    from hubship.hub_client import HubClient
    from hubship.loader import load_from_hub
    from hubship.publish import publish
    from hubship.registry import Registry

    assets = tmp_path / "assets"
    subprocess.run([sys.executable, str(ROOT / "models" / "train.py")], check=True,
                   env={**os.environ, "HUBSHIP_ASSETS_DIR": str(assets)})
    api = HfApi(endpoint=HUGGINGFACE_CO, token=TOKEN)
    registry = Registry(api, REPO_ID, cache_dir=tmp_path / "publisher-cache")
    result = publish(registry, assets, force=True)  # force: the smoke repo's history is noise
    assert len(result.sha) == 40

    settings = Settings(hf_endpoint=HUGGINGFACE_CO, hf_token=TOKEN, hf_repo_id=REPO_ID,
                        hubship_home=tmp_path / "backend-home")
    served = load_from_hub(settings, hub=HubClient.for_backend(settings, api=api),
                           revision=result.sha)
    assert served.sha == result.sha
    assert set(served.models) == {"species", "body_mass"}
