"""`hubship train` and `run_training`: run the training command, show and check its release."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hubship.config import Settings
from hubship.errors import IntegrityError, ManifestError, TrainingError
from hubship.manifest import Manifest
from hubship.training import run_training, training_argv

ROOT = Path(__file__).resolve().parents[2]


def _hubship(*args: str, assets: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubship", *args], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "HUBSHIP_ASSETS_DIR": str(assets), "COLUMNS": "120", **env},
        timeout=120, check=False,
    )


def test_hubship_train_prints_models_and_metrics_and_keeps_them_on_failure(tmp_path):
    assets = tmp_path / "model_assets"
    done = _hubship("train", assets=assets)
    assert done.returncode == 0, done.stdout + done.stderr
    for text in ("species", "body_mass", "f1_macro", "mae", "(primary)"):
        assert text in done.stdout
    manifest = Manifest.read(assets)
    manifest.verify_files(assets)
    written = (assets / "manifest.json").read_bytes()

    failing = "python -c \"import sys; print('loading data'); sys.exit('KeyError: species')\""
    done = _hubship("train", "--command", failing, assets=assets)
    assert done.returncode == 1
    stderr = " ".join(done.stderr.split())  # Rich wraps long lines
    assert "failed with exit code 1" in stderr
    assert "loading data" in stderr and "KeyError: species" in stderr
    assert (assets / "manifest.json").read_bytes() == written  # the old release is intact


def test_command_that_writes_no_release_is_an_error(tmp_path):
    done = _hubship("train", "--command", "python -c pass", assets=tmp_path / "assets")
    assert done.returncode == 1
    assert "wrote no new release" in " ".join(done.stderr.split())


def test_training_output_is_redacted(tmp_path, monkeypatch):
    # not shaped like an hf_ token, so only the list of configured secrets can catch it
    monkeypatch.setenv("HF_TOKEN", "plain-looking-secret-4711")
    monkeypatch.setenv("HUBSHIP_ASSETS_DIR", str(tmp_path))
    seen: list[str] = []
    command = "python -c \"import os, sys; print(os.environ['HF_TOKEN']); sys.exit(2)\""
    with pytest.raises(TrainingError) as caught:
        run_training(Settings(), command=command, on_line=seen.append)
    assert "plain-looking-secret-4711" not in str(caught.value)
    assert seen == ["***"]


def test_training_does_not_see_deploy_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("RAILWAY_TOKEN", "railway-secret-value")
    monkeypatch.setenv("ADMIN_TOKEN", "admin-secret-value")
    monkeypatch.setenv("HUBSHIP_ASSETS_DIR", str(tmp_path))
    seen: list[str] = []
    command = ("python -c \"import os, sys; print(os.environ.get('RAILWAY_TOKEN'), "
               "os.environ.get('ADMIN_TOKEN')); sys.exit(2)\"")
    with pytest.raises(TrainingError):
        run_training(Settings(), command=command, on_line=seen.append)
    assert seen == ["None None"]


def test_run_training_returns_the_checked_manifest(tmp_path, monkeypatch):
    script = tmp_path / "train_tiny.py"
    tiny = (
        "import os, pandas as pd\n"
        "from sklearn.linear_model import LinearRegression\n"
        "from hubship.bundle import Bundle\n"
        "X = pd.DataFrame({'x': [0.0, 1.0, 2.0, 3.0, 4.0]})\n"
        "y = pd.Series([1.0, 3.0, 5.0, 7.0, 9.1], name='y')\n"
        "bundle = Bundle(os.environ['HUBSHIP_ASSETS_DIR'])\n"
        "bundle.add('line', LinearRegression().fit(X, y), X_train=X, X_holdout=X,\n"
        "           y_holdout=y, task='regression', primary_metric='mae')\n"
        "bundle.save()\n"
        "print('done')\n"
    )
    script.write_text(tiny)
    monkeypatch.setenv("HUBSHIP_ASSETS_DIR", str(tmp_path / "assets"))
    lines: list[str] = []
    manifest = run_training(Settings(), command=f"python {script}", on_line=lines.append)
    assert list(manifest.models) == ["line"] and lines == ["done"]

    # a run that leaves the old release in place, or writes a broken one, is refused
    script.write_text("print('pretends to train')\n")
    with pytest.raises(TrainingError, match="wrote no new release"):
        run_training(Settings(), command=f"python {script}")
    script.write_text("import os; open(os.environ['HUBSHIP_ASSETS_DIR'] + "
                      "'/manifest.json', 'w').write('{}')\n")
    with pytest.raises(ManifestError, match="not a valid hubship manifest"):
        run_training(Settings(), command=f"python {script}")
    script.write_text(tiny + "open(os.environ['HUBSHIP_ASSETS_DIR'] + "
                      "'/models/line.joblib', 'ab').write(b'tampered')\n")
    with pytest.raises(IntegrityError, match="models/line.joblib"):
        run_training(Settings(), command=f"python {script}")


def test_python_means_this_interpreter():
    assert training_argv("python models/train.py --fast") == \
        [sys.executable, "models/train.py", "--fast"]
    assert training_argv("uv run train.py")[0] == "uv"
    with pytest.raises(TrainingError, match="empty"):
        training_argv("  ")
