"""Plain console output for the commands (Rich, without markup)."""

from __future__ import annotations

from typing import Any


def default_console(console: Any = None) -> Any:
    """`console`, or a new Rich console when None."""
    if console is not None:
        return console
    from rich.console import Console

    return Console()


def say(console: Any, text: str) -> None:
    """Print one plain line (no Rich markup: a sha or a path is printed as it is)."""
    default_console(console).print(text, markup=False, highlight=False)
