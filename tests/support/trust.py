"""What the trust tests share: key pairs, the marker-writing pickle, and ways to tamper with a
release the real publisher signed.

`RunsCode` is what a malicious model file does: unpickling it runs code (here it writes a
marker file). A test proves a release was never unpickled by checking the marker is absent,
and `test_release_checks` proves the marker does appear when the same file is unpickled.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import joblib

from hubship.manifest import Manifest, sha256_file
from hubship.signing import SigningKey, generate, write_key_pair
from tests.support.cli import run_hubship

ROOT = Path(__file__).resolve().parents[2]


class RunsCode:
    """Unpickling this writes `marker`: what a malicious model file does."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


class BuildsCode:
    """A type whose construction writes `marker` (skops calls `__setstate__` on what it
    builds): it must never be built from a file unless a person trusted it."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __setstate__(self, state: dict) -> None:
        Path(state["marker"]).write_text("built")
        self.__dict__.update(state)


def plant_marker(release_dir: Path, marker: Path, *, name: str = "species") -> Path:
    """Put the marker pickle in place of model `name`, with an honest sha256 and size in the
    manifest (what an attacker with a write token publishes)."""
    manifest = Manifest.read(release_dir)
    entry = manifest.models[name]
    path = release_dir / entry.file
    joblib.dump(RunsCode(marker), path)
    new = entry.model_copy(update={"sha256": sha256_file(path), "size": path.stat().st_size})
    manifest.model_copy(update={"models": {**manifest.models, name: new}}).write(release_dir)
    return release_dir


def key_files(folder: Path, name: str = "signing") -> tuple[SigningKey, Path, Path]:
    """A new key pair written like `hubship keygen` does: (key, private path, public path)."""
    key = generate()
    private = folder / f"{name}.pem"
    public = write_key_pair(private, key)
    return key, private, public


def pem_body_lines(key: SigningKey) -> list[str]:
    """The private key's base64 lines: none may appear in a log, card or manifest."""
    return [line for line in key.pem.decode().splitlines() if not line.startswith("-----")]


def copy_release(source: Path, target: Path) -> Path:
    """A plain copy of a release folder (a cache snapshot's symlinks become files)."""
    return Path(shutil.copytree(source, target))


def hubship_cli(*args: str, env: dict[str, str], cwd: Path = ROOT
                ) -> subprocess.CompletedProcess[str]:
    """`hubship ARGS` as a user runs it, in this process (tests.support.cli: the same
    `hubship.cli.main`, without an interpreter start and imports per call)."""
    return run_hubship(*args, env=env, cwd=cwd)


def upload_raw(api, repo_id: str, folder: Path, *, tag: str | None = None) -> str:
    """What an attacker with a write token does: one `upload_folder` commit on main (files
    already on the Hub, like an old manifest.sig, stay), optionally tagged; its sha."""
    commit = api.upload_folder(folder_path=folder, repo_id=repo_id,
                               commit_message="an unreviewed change")
    if tag:
        api.create_tag(repo_id, tag=tag, revision=commit.oid)
    return commit.oid
