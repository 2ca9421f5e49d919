"""Publish the trained release to the Hub: the pipeline's "Upload HF" step.

    python scripts/upload_models.py [--force] [--dry-run] [--assets-dir DIR]

The same as `hubship publish`: gate the release in backend/model_assets/ against the Hub's
head, then publish it as one tagged commit (nothing when unchanged). Environment: HF_ENDPOINT
(unset = huggingface.co), HF_TOKEN, HF_REPO_ID; with neither HF_ENDPOINT nor HF_TOKEN it
publishes to the embedded local hub (started if not running). Writes sha=, tag=, changed= to
$GITHUB_OUTPUT when set. Exit codes: 0 published or unchanged, 1 failed, 2 bad settings,
3 the gate refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import hubship  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hubship.cli import main

if __name__ == "__main__":
    main(["publish", *sys.argv[1:]])
