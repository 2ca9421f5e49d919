"""`hubship publish` and `hubship releases`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from hubship.config import Settings
    from hubship.publish import PublishResult


def run_publish(
    settings: Settings, *, force: bool = False, dry_run: bool = False,
    assets_dir: Path | None = None, console: Any = None,
) -> PublishResult:
    """What `hubship publish` and `scripts/upload_models.py` both run."""
    from hubship.publish import publish
    from hubship.registry import Registry
    from hubship.release import Trust
    from hubship.services import start_local_hub_if_used

    trust, signing_key = Trust.for_publisher(settings, dry_run=dry_run)  # before any Hub call
    registry = Registry.from_settings(settings)
    start_local_hub_if_used(settings, console)
    result = publish(registry, assets_dir or settings.assets_dir, force=force, dry_run=dry_run,
                     console=console, trust=trust, signing_key=signing_key)
    if not dry_run:
        write_github_output(result)
    return result


def write_github_output(result: PublishResult) -> None:
    """sha=, tag=, changed=, release= for the workflow's next steps (GitHub Actions only)."""
    from hubship.github import append_output

    append_output(sha=result.sha, tag=result.tag, changed=result.changed,
                  release=result.release)


def register(app: typer.Typer) -> None:
    @app.command("publish")
    def publish_command(
        force: bool = typer.Option(False, "--force/--no-force",
                                   help="publish even if the gate refuses"),
        dry_run: bool = typer.Option(False, "--dry-run/--no-dry-run",
                                     help="gate and report, commit nothing"),
        assets_dir: Annotated[Path | None, typer.Option(
            "--assets-dir", help="the release directory (default: HUBSHIP_ASSETS_DIR)")] = None,
    ) -> None:
        """Gate the trained release and publish it as one tagged commit.

        The gate compares it with the release on main (the champion); a refused release
        publishes nothing unless --force.
        """
        from rich.console import Console

        from hubship.demo import command_settings

        console = Console()
        run_publish(command_settings(console), force=force, dry_run=dry_run, assets_dir=assets_dir,
                    console=console)

    @app.command("releases")
    def releases_command() -> None:
        """List the releases: tag, sha, date, metrics, source commit.

        A release trained from uncommitted changes shows its commit as `<sha>+dirty`.
        """
        from rich.console import Console
        from rich.table import Table

        from hubship.demo import command_settings
        from hubship.registry import Registry
        from hubship.services import start_local_hub_if_used

        console = Console()
        settings = command_settings(console)
        registry = Registry.from_settings(settings)
        start_local_hub_if_used(settings, console)
        table = Table(title=f"releases of {registry.repo_id}")
        for column in ("tag", "sha", "date", "primary metrics", "source commit", "note"):
            table.add_column(column)
        for info in registry.releases():
            manifest = info.manifest
            metrics = ", ".join(
                f"{name} {e.primary_metric.name}={e.metrics[e.primary_metric.name]:.4f}"
                for name, e in manifest.models.items()) if manifest else "-"
            source = (manifest.source.commit_label() if manifest else None) or "-"
            note = ("FORCED" if manifest and manifest.forced else "") + (
                f"restores {manifest.restores}" if manifest and manifest.restores else "")
            date = info.date.strftime("%Y-%m-%d %H:%M:%SZ") if info.date else "-"
            table.add_row(info.tag, info.sha[:12], date, metrics, source, note)
        console.print(table)
