"""Run the training command and read back the release it wrote.

`run_training` is what `hubship train` and the pipeline call. The command (Settings.train_command,
default `python models/train.py`) runs as a subprocess with HUBSHIP_ASSETS_DIR pointing at
Settings.assets_dir, so the script writes exactly where hubship reads. A leading `python` means
the interpreter running hubship, so the training sees the same packages.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path

from hubship.config import SECRET_SETTINGS, Settings
from hubship.errors import TrainingError, redact
from hubship.manifest import MANIFEST_FILE, Manifest

OUTPUT_TAIL_LINES = 30


# Training never needs these (every secret setting but HF_TOKEN); keep them out of its reach.
# HF_TOKEN stays: training code may read private data from the Hub.
DEPLOY_SECRETS = SECRET_SETTINGS - {"HF_TOKEN"}


def training_argv(command: str) -> list[str]:
    """The command as argv; `python`/`python3` become this interpreter."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise TrainingError(f"cannot parse the training command `{command}`: {exc}",
                          hint="set HUBSHIP_TRAIN_COMMAND to e.g. 'python models/train.py'") \
            from None
    if not argv:
        raise TrainingError("the training command is empty",
                          hint="set HUBSHIP_TRAIN_COMMAND to e.g. 'python models/train.py'")
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


def _stamp(path: Path) -> tuple[int, int] | None:
    """Identity of a file version: a release swapped in by `Bundle.save` is a new inode."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def run_training(
    settings: Settings,
    *,
    command: str | None = None,
    cwd: Path | None = None,
    on_line: Callable[[str], None] | None = None,
) -> Manifest:
    """Run the training command, then read, validate and integrity-check its release.

    `on_line` receives each output line (stdout and stderr merged, secrets redacted) as it
    comes. Raises TrainingError when the command fails, writes no new release, or writes an
    invalid one (ManifestError / IntegrityError from reading it).
    """
    command = command or settings.train_command
    argv = training_argv(command)
    assets_dir = Path(settings.assets_dir).resolve()
    env = {name: value for name, value in os.environ.items() if name not in DEPLOY_SECRETS}
    env.update(HUBSHIP_ASSETS_DIR=str(assets_dir), PYTHONUNBUFFERED="1")
    secrets = settings.secrets()
    before = _stamp(assets_dir / MANIFEST_FILE)
    tail: deque[str] = deque(maxlen=OUTPUT_TAIL_LINES)
    try:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1,
        )
    except OSError as exc:
        raise TrainingError(f"cannot start the training command `{command}`: {exc}",
                          hint="check HUBSHIP_TRAIN_COMMAND and the working directory") from None
    with process:
        assert process.stdout is not None
        try:
            for raw in process.stdout:
                line = redact(raw.rstrip("\n"), secrets)
                tail.append(line)
                if on_line is not None:
                    on_line(line)
        except BaseException:  # Ctrl-C or SIGTERM of the command: the training stops with it
            process.kill()
            raise
    if process.returncode != 0:
        shown = "\n".join(tail)
        raise TrainingError(
            f"the training command `{command}` failed with exit code {process.returncode}; "
            f"its last output:\n{shown}",
            hint="fix the error above and run `hubship train` again; the previous release in "
                 f"{assets_dir} is untouched",
        )
    if _stamp(assets_dir / MANIFEST_FILE) in (None, before):
        raise TrainingError(
            f"the training command `{command}` succeeded but wrote no new release to {assets_dir}",
            hint="save the models with hubship.bundle.Bundle(os.environ['HUBSHIP_ASSETS_DIR'])",
        )
    manifest = Manifest.read(assets_dir)
    manifest.verify_files(assets_dir)
    return manifest
