"""Publish the trained release to the Hub: the pipeline's "Upload HF" step.

    python scripts/upload_models.py [--force] [--dry-run] [--assets-dir DIR]

Environment: HF_ENDPOINT (unset = huggingface.co), HF_TOKEN, HF_REPO_ID. With neither
HF_ENDPOINT nor HF_TOKEN it publishes to the embedded local hub (started if not running).
Runs the same code as `hubship publish`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import hubship  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    from hubship.commands.publish import run_publish
    from hubship.config import Settings
    from hubship.errors import HubshipError, redact

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="publish even if the gate refuses")
    parser.add_argument("--dry-run", action="store_true", help="gate and report, commit nothing")
    parser.add_argument("--assets-dir", type=Path, default=None,
                        help="the release directory (default: HUBSHIP_ASSETS_DIR)")
    args = parser.parse_args(argv)
    console, errors = Console(), Console(stderr=True)
    secrets: list[str] = []
    try:
        settings = Settings()
        secrets = settings.secrets()
        run_publish(settings, force=args.force, dry_run=args.dry_run,
                    assets_dir=args.assets_dir, console=console)
    except HubshipError as exc:
        errors.print(f"[bold red]error:[/] {redact(exc.message, secrets)}", highlight=False)
        if exc.hint:
            errors.print(f"  [yellow]hint:[/] {redact(exc.hint, secrets)}", highlight=False)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
