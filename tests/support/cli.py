"""`hubship ARGS` run inside the test process, for tests that check what a command prints and
its exit code.

A `python -m hubship` subprocess pays the interpreter start and the imports (Typer, Rich,
pydantic: seconds on a loaded machine) on every call; in process they are paid once. What runs
is the same: `hubship.cli.main`, the entry point `python -m hubship` calls, with the given
environment, working directory and a 200-column terminal, stdout and stderr captured apart,
`sys.exit` turned into the exit code and an uncaught exception into a traceback on stderr and
exit code 1, as the interpreter would. Warnings logged with no handler set up reach stderr, as
Python's last-resort handler prints them in a subprocess.

Tests of the real process (signals, the interpreter's start, `python -m hubship` itself) keep
using subprocesses: tests/publish/test_cli.py (the upload script, `python -m hubship --version`),
tests/e2e, tests/training/test_train_command.py.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

WIDTH = 200


@contextlib.contextmanager
def _last_resort_logging(stream: io.StringIO) -> Iterator[None]:
    """Log records of WARNING and above on `stream`, message only, like `logging.lastResort`
    (pytest's own handlers on the root logger would otherwise swallow them)."""
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def run_hubship(*args: str, env: dict[str, str | None] | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`hubship ARGS` in this process with os.environ updated by `env` (None removes a
    variable); the result has the shape of `subprocess.run(..., capture_output=True,
    text=True)`."""
    changes = {"COLUMNS": str(WIDTH), **(env or {})}
    environ = {**os.environ, **{k: v for k, v in changes.items() if v is not None}}
    for name in [k for k, v in changes.items() if v is None]:
        environ.pop(name, None)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, environ, clear=True))
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        from hubship import cli

        stack.enter_context(contextlib.redirect_stdout(stdout))
        stack.enter_context(contextlib.redirect_stderr(stderr))
        stack.enter_context(_last_resort_logging(stderr))
        try:
            cli.main(list(args))
            code = 0
        except SystemExit as exit_:
            code = _exit_code(exit_.code, stderr)
        except Exception:  # noqa: BLE001 - the interpreter prints it and exits 1
            traceback.print_exc(file=stderr)
            code = 1
    return subprocess.CompletedProcess([sys.executable, "-m", "hubship", *args], code,
                                       stdout.getvalue(), stderr.getvalue())


def _exit_code(code: object, stderr: io.StringIO) -> int:
    """What the interpreter makes of `sys.exit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=stderr)
    return 1
