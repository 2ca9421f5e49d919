"""The frontend's API types are generated from the backend's OpenAPI document: the checked-in
file must be what the generator writes now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_frontend_types_match_the_backends_answers(frontend_dist: Path):
    # frontend_dist: built with npm, so frontend/node_modules holds openapi-typescript
    done = subprocess.run([sys.executable, "scripts/gen_frontend_types.py", "--check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
