from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        force: bool = typer.Option(False, "--force", help="publish even if the gate refuses"),
    ) -> None:
        """Train, gate, publish, deploy and verify: the whole loop, step by step."""
        from rich.console import Console

        from hubship.config import Settings
        from hubship.demo import load_demo_env
        from hubship.pipeline import run_pipeline

        console = Console()
        settings = load_demo_env(Settings.load(), console)
        summary = run_pipeline(settings, force=force, console=console)
        if summary.error is not None:
            raise typer.Exit(summary.error.exit_code)

    @app.command()
    def demo() -> None:
        """Run the whole loop on this machine: local hub, training, backend, frontend."""
        from hubship.config import Settings
        from hubship.demo import run_demo

        run_demo(Settings.load())
