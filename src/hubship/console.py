"""Plain console output for the commands (Rich, without markup)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def default_console(console: Console | None = None) -> Console:
    """`console`, or a new Rich console when None."""
    if console is not None:
        return console
    from rich.console import Console

    return Console()


def say(console: Console | None, text: str) -> None:
    """Print one plain line (no Rich markup: a sha or a path is printed as it is)."""
    default_console(console).print(text, markup=False, highlight=False)
