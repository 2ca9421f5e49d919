"""The `hubship` command line (Typer + Rich).

Each command lives in `hubship.commands.<topic>` and exposes `register(app)`; this module
finds them all, so adding a command never touches this file. Command modules import heavy
libraries inside the command function, so `hubship hub` starts fast; Rich too is imported
only when a command prints with it (or fails).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from hubship import commands
from hubship.errors import HubshipError, redact

app = typer.Typer(
    name="hubship",
    help="Push-to-production for scikit-learn models: train, gate, publish, deploy, verify.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    importlib.import_module(f"{commands.__name__}.{_info.name}").register(app)


@app.callback()
def _root() -> None:
    """Push-to-production for scikit-learn models: train, gate, publish, deploy, verify."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a HubshipError becomes a readable message and its exit code.

    Messages quote backends and hosts, so they are printed as text, never as Rich markup.
    """
    try:
        app(args=argv, prog_name="hubship")
    except HubshipError as exc:
        from rich.console import Console
        from rich.text import Text

        from hubship.config import Settings

        try:
            secrets = Settings.load().secrets()
        except HubshipError:  # the settings themselves may be what is wrong
            secrets = []
        err_console = Console(stderr=True)
        err_console.print(Text.assemble(("error: ", "bold red"), redact(exc.message, secrets)),
                          highlight=False)
        if exc.hint:
            err_console.print(Text.assemble(("  hint: ", "yellow"), redact(exc.hint, secrets)),
                              highlight=False)
        sys.exit(exc.exit_code)
