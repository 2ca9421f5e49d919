"""huggingface_hub's own progress bars off in every hubship process.

Its tqdm bars ("Fetching 8 files: 100%|...") go to stderr from every download and upload: in
`hubship run` they break the step sections, in the backend's log they are noise. hubship shows
one Rich status per step instead (`pipeline`, `commands/rollback.py`). Run at `import hubship`,
like `local_hub_client`: HF_HUB_DISABLE_PROGRESS_BARS is read when huggingface_hub is imported,
and child processes (training, the backend the demo starts) inherit it. A value the user set
wins.
"""

from __future__ import annotations

import os
import sys


def silence_hub_progress_bars(environ: os._Environ[str] | dict[str, str] | None = None) -> None:
    environ = os.environ if environ is None else environ
    if "HF_HUB_DISABLE_PROGRESS_BARS" in environ:
        return
    environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    utils = sys.modules.get("huggingface_hub.utils")
    if utils is not None:  # imported before hubship: its constant is read already
        utils.disable_progress_bars()
