"""CLI commands, one module per topic; each defines `register(app: typer.Typer)`."""
