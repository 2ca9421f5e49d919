"""`hubship run`'s promises that need no hub: it refuses, before training, a deploy it could not
verify; it prints untrusted text (training output, error messages) as text, never as Rich
markup; and its headline never claims a production state it did not check."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from hubship.config import Settings
from hubship.deploy import check_verifiable
from hubship.errors import ConfigError, DeployError
from hubship.pipeline import PipelineSummary, run_pipeline
from tests.support.cli import run_hubship

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("target", ["railway", "render", "webhook"])
def test_a_deploy_without_backend_url_is_refused_before_training(target: str, tmp_path: Path):
    marker = tmp_path / "trained"
    env = {"DEPLOY_TARGET": target, "HUBSHIP_HOME": str(tmp_path / "home"),
           "HUBSHIP_TRAIN_COMMAND": f"{sys.executable} -c \"open({str(marker)!r}, 'w')\"",
           "BACKEND_URL": None}
    done = run_hubship("run", env=env, cwd=tmp_path)

    assert done.returncode == 2, done.stdout + done.stderr
    assert f"DEPLOY_TARGET={target} needs BACKEND_URL to prove production serves" in done.stderr
    assert not marker.exists(), "training ran although the run could never be verified"


def test_publishing_only_needs_no_backend_url():
    check_verifiable(Settings(deploy_target="none"))  # reported as NOT verified, not refused


def test_training_output_and_errors_are_printed_as_text_not_markup(tmp_path: Path):
    script = "print('[info] loading [bold]data'); print('closing [/x] here'); raise SystemExit(3)"
    settings = Settings(train_command=f"{sys.executable} -c \"{script}\"",
                        assets_dir=tmp_path / "assets", hubship_home=tmp_path / "home")
    out = io.StringIO()
    summary = run_pipeline(settings, console=Console(file=out, width=300))

    assert not summary.ok and summary.steps["train"].status == "failed"
    text = out.getvalue()
    assert "closing [/x] here" in text  # a MarkupError would have stopped the run instead
    assert "[info] loading [bold]data" in text
    assert summary.headline.startswith("FAILED at train: the training command")


def test_a_step_error_with_brackets_reaches_the_step_summary(tmp_path: Path, monkeypatch):
    report = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(report))
    summary = PipelineSummary()
    summary.steps["deploy"].status, summary.steps["deploy"].detail = "failed", "a [/x] | b"
    summary.error = DeployError("a [/x] | b")
    out = io.StringIO()

    from hubship.pipeline import _report

    _report(summary, Settings(), Console(file=out, width=300))
    assert "FAILED at deploy: a [/x] | b" in out.getvalue()
    assert "| deploy | failed | 0.0s | a [/x] \\| b |" in report.read_text()


def _unchanged(*, verified: bool, caught_up: bool = False) -> PipelineSummary:
    return PipelineSummary(sha=SHA, tag="v5", changed=False, verified=verified,
                           caught_up=caught_up)


def test_an_unchanged_run_without_backend_url_does_not_claim_production_state():
    assert _unchanged(verified=False).headline == (
        "unchanged: v5 is the latest release (production not checked: no BACKEND_URL)")


def test_an_unchanged_run_says_what_it_checked():
    assert _unchanged(verified=True).headline == f"unchanged: production already serves v5 ({SHA})"
    assert _unchanged(verified=True, caught_up=True).headline == (
        f"unchanged: production caught up and serves v5 ({SHA})")


def test_an_unchanged_run_with_a_pinned_production_says_so():
    summary = _unchanged(verified=False)
    summary.pinned_to = "v3"
    assert summary.ok
    assert summary.headline == ("unchanged: v5 is the latest release; production is pinned to "
                                "v3 (MODEL_REVISION), so nothing was deployed or verified")


def test_run_pipeline_refuses_a_deploy_target_without_backend_url_before_training(
    tmp_path: Path,
):
    marker = tmp_path / "trained"
    settings = Settings(deploy_target="webhook", hubship_home=tmp_path / "home",
                        train_command=f"{sys.executable} -c \"open({str(marker)!r}, 'w')\"")
    with pytest.raises(ConfigError, match="DEPLOY_TARGET=webhook needs BACKEND_URL"):
        run_pipeline(settings, console=Console(file=io.StringIO()))
    assert not marker.exists()
