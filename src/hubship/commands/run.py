from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        force: bool = typer.Option(False, "--force/--no-force",
                                   help="publish even if the gate refuses"),
    ) -> None:
        """Train, gate, publish, deploy, verify: the whole loop.

        Settings come from the environment; with nothing configured there (no HF_ENDPOINT,
        HF_TOKEN or BACKEND_URL) and `hubship demo` running, from its
        $HUBSHIP_HOME/demo.env (default .hubship/demo.env): its hub, backend and signing key.
        """
        from rich.console import Console

        from hubship.demo import command_settings
        from hubship.pipeline import run_pipeline

        console = Console()
        settings = command_settings(console)
        summary = run_pipeline(settings, force=force, console=console)
        if summary.error is not None:
            raise typer.Exit(summary.error.exit_code)

    @app.command()
    def demo() -> None:
        """The whole loop on this machine, with a web page.

        Keeps them up until Ctrl-C; meanwhile every other command (run, releases,
        rollback, deploy, verify) reads its settings from $HUBSHIP_HOME/demo.env.
        """
        from hubship.config import Settings
        from hubship.demo import run_demo

        run_demo(Settings.load())
