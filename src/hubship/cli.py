"""The `hubship` command line (Typer + Rich).

Each command lives in `hubship.commands.<topic>` and exposes `register(app)`; this module
finds them all, so adding a command never touches this file (help lists the commands of the
loop in its order, then any others). Command modules import heavy libraries inside the command
function, so `hubship hub` starts fast; Rich too is imported only when a command prints with it
(or fails).

Help is click's plain layout (`rich_markup_mode=None`): flags read `--force / --no-force`, never
`<bool>`, and paragraphs wrap to the terminal.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from hubship import commands
from hubship.errors import HubshipError, redact

# the loop in its order, then looking back, then running the parts, then keys
FLOW_ORDER = ("demo", "run", "train", "publish", "deploy", "verify", "releases", "rollback",
              "serve", "hub", "frontend", "keygen", "check-keys", "version")

app = typer.Typer(
    name="hubship",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

for _info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    importlib.import_module(f"{commands.__name__}.{_info.name}").register(app)


def _flow_position(command: typer.models.CommandInfo) -> int:
    name = command.name or (command.callback.__name__.replace("_", "-")
                            if command.callback else "")
    return FLOW_ORDER.index(name) if name in FLOW_ORDER else len(FLOW_ORDER)


app.registered_commands.sort(key=_flow_position)


def _print_version(show: bool) -> None:
    if show:
        from hubship import __version__

        typer.echo(f"hubship {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True,
        help="Print the hubship version and exit."),
) -> None:
    """Push-to-production for scikit-learn models: train, gate, publish, deploy, verify.

    Start with `hubship demo` (the whole loop on this machine), then change models/train.py
    and `hubship run`.
    """


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
