"""Make `huggingface_hub` upload large files through LFS when it talks to a hub on this
machine (the embedded hub speaks LFS, not Xet).

With `hf_xet` installed (the default), huggingface_hub 1.x/2.x turns every file preupload marks
"lfs" into a Xet upload, with no fallback to LFS; `HF_HUB_DISABLE_XET=1` switches that off, but
it is read once, when huggingface_hub is imported. So this runs when `hubship` is imported
(before huggingface_hub in every hubship process): for a loopback `HF_ENDPOINT`, or for the
embedded default (no endpoint, token or repo id set, outside CI), it sets the variable (child
processes inherit it) and, if huggingface_hub was imported already, its constant. A variable
the user set wins, and against huggingface.co nothing changes: Xet stays on.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def aims_at_a_local_hub(environ: os._Environ[str] | dict[str, str]) -> bool:
    endpoint = environ.get("HF_ENDPOINT", "").strip()
    if endpoint:
        return urlsplit(endpoint).hostname in LOOPBACK_HOSTS
    # the embedded hub is the default registry (hubship.config.Settings.uses_local_hub)
    return not any(environ.get(name) for name in ("HF_TOKEN", "HF_REPO_ID", "GITHUB_ACTIONS"))


def prefer_lfs_for_a_local_hub(environ: os._Environ[str] | None = None) -> None:
    environ = os.environ if environ is None else environ
    if "HF_HUB_DISABLE_XET" in environ or not aims_at_a_local_hub(environ):
        return
    environ["HF_HUB_DISABLE_XET"] = "1"
    if "huggingface_hub.constants" in sys.modules:  # already read the environment
        from huggingface_hub import constants

        constants.HF_HUB_DISABLE_XET = True
