"""Older clients against the hub: the last huggingface_hub 1.x and 0.x, each in a throwaway venv
(kept under test-artifacts/client-venvs so later runs reuse it), run the LFS round trip
(basic and multipart), a regular file, whoami and a download. The pinned client runs the same
in the other hub tests. Skipped, saying why, when a client does not install."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
import hashlib, json, pathlib, sys
import huggingface_hub
from huggingface_hub import HfApi, snapshot_download

folder, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
api = HfApi()
api.create_repo("team/models")
commit = api.upload_folder(repo_id="team/models", folder_path=folder, commit_message="r1")
path = pathlib.Path(snapshot_download("team/models", cache_dir=str(out)))
print(json.dumps({
    "version": huggingface_hub.__version__,
    "user": api.whoami()["name"],
    "files": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in path.rglob("*") if p.is_file()},
    "lfs": [f.path for f in api.get_paths_info("team/models", ["big.bin", "mid.bin"])
            if f.lfs is not None],
}))
"""
CLIENTS = {"1.x": "huggingface_hub>=1,<2", "0.x": "huggingface_hub<1"}


@pytest.fixture(scope="module")
def client_pythons(artifacts_dir: Path) -> dict[str, Path | str]:
    """Each client's venv python, or why it did not install. A venv made by an earlier run is
    reused; the missing ones are made without pip of their own (this venv's pip installs into
    them, `pip --python`) and installed at once, since an install mostly waits on the index."""
    pythons: dict[str, Path | str] = {}
    installs: dict[str, subprocess.Popen[str]] = {}
    for label, spec in CLIENTS.items():
        venv = artifacts_dir / "client-venvs" / label.replace(".", "")
        python = pythons[label] = venv / "bin" / "python"
        check = [str(python), "-c", "import huggingface_hub"]
        if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
            continue
        made = subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip",
                               str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            pythons[label] = f"no venv for {spec}: {made.stderr.strip()[-300:]}"
            continue
        installs[label] = subprocess.Popen(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
             "--disable-pip-version-check", spec],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for label, install in installs.items():
        try:
            _, stderr = install.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            install.kill()
            install.communicate()
            pythons[label] = f"installing {CLIENTS[label]} took over 5 minutes"
            continue
        if install.returncode != 0:
            pythons[label] = f"{CLIENTS[label]} does not install here: {stderr.strip()[-300:]}"
    return pythons


@pytest.mark.parametrize("label", CLIENTS)
def test_an_older_client_round_trips_lfs_files(label, client_pythons, start_hub, tmp_path):
    python = client_pythons[label]
    if isinstance(python, str):
        pytest.skip(python)
    hub = start_hub(token="s3cret", args=["--lfs-threshold-bytes", "100000",
                                          "--lfs-chunk-bytes", str(1024 * 1024)])
    folder = tmp_path / "release"
    folder.mkdir()
    files = {"big.bin": os.urandom(2 * 1024 * 1024 + 7),  # multipart: 3 parts
             "mid.bin": os.urandom(300_000),  # basic LFS upload
             "manifest.json": b'{"format": "hubship/1"}'}  # regular
    for name, data in files.items():
        (folder / name).write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_TOKEN="s3cret", HF_HOME=str(tmp_path / "hf-home"),
               HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1",
               HF_HUB_DISABLE_PROGRESS_BARS="1")

    run = subprocess.run([str(python), "-c", SCRIPT, str(folder), str(tmp_path / "cache")],
                         env=env, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["version"].startswith("1." if label == "1.x" else "0.")
    assert result["user"] == "local"
    assert result["files"] == {name: hashlib.sha256(data).hexdigest()
                               for name, data in files.items()}
    assert sorted(result["lfs"]) == ["big.bin", "mid.bin"]
    assert "/1 200" in Path(hub.log_path).read_text()  # the multipart upload did happen
