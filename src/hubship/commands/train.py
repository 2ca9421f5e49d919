"""`hubship train`: run the training command and show the models it produced."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.table import Table

    from hubship.manifest import Manifest


def register(app: typer.Typer) -> None:
    @app.command()
    def train(
        command: str | None = typer.Option(
            None, "--command", "-c",
            help="training command (default: $HUBSHIP_TRAIN_COMMAND or 'python models/train.py')",
        ),
    ) -> None:
        """Train the models and print their metrics."""
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.text import Text

        from hubship.config import Settings
        from hubship.errors import BundleError
        from hubship.training import OUTPUT_TAIL_LINES, run_training

        settings = Settings.load()
        console = Console()
        shown = command or settings.train_command
        lines: list[str] = []
        with Progress(
            SpinnerColumn(), TextColumn("[bold]training[/] {task.description}"),
            TimeElapsedColumn(), console=console, transient=True,
        ) as progress:
            task = progress.add_task(Text(shown).plain, total=None)

            def on_line(line: str) -> None:
                lines.append(line)
                progress.update(task, description=f"{shown} · {line[-60:]}")

            try:
                manifest = run_training(settings, command=command, on_line=on_line)
            except BundleError:
                progress.stop()
                earlier = lines[:-OUTPUT_TAIL_LINES]  # the error message quotes the rest
                if earlier:
                    Console(stderr=True).print(Text("\n".join(earlier)), highlight=False)
                raise
        console.print(_table(manifest, settings.assets_dir))


def _table(manifest: Manifest, assets_dir: Path) -> Table:
    from rich.table import Table

    from hubship.scoring import METRICS

    source = manifest.source
    commit = (source.git_commit or "no git")[:12] + (" (dirty)" if source.git_dirty else "")
    table = Table(title=f"release in {assets_dir} · {commit}", title_justify="left")
    for column in ("model", "task", "metric", "value"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for name, entry in manifest.models.items():
        for i, (metric, value) in enumerate(entry.metrics.items()):
            known = METRICS.get(metric)
            arrow = "" if known is None else (" ↑" if known.higher_is_better else " ↓")
            label = f"{metric}{arrow}"
            if metric == entry.primary_metric.name:
                label = f"[bold]{label} (primary)[/]"
            table.add_row(name if i == 0 else "", entry.task if i == 0 else "", label,
                          f"{value:.4f}", end_section=i == len(entry.metrics) - 1)
    return table
