from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def version() -> None:
        """Print the hubship version."""
        from hubship import __version__

        typer.echo(f"hubship {__version__}")
