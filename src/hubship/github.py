"""The files GitHub Actions reads back from a step: `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY`.

Both are no-ops outside Actions (the variables are unset), so local runs call them freely.
"""

from __future__ import annotations

import os


def append_output(**values: object) -> None:
    """Append `name=value` lines to $GITHUB_OUTPUT (booleans as true/false, None as "")."""
    _append("GITHUB_OUTPUT", "".join(f"{name}={_text(value)}\n" for name, value in values.items()))


def append_summary(markdown: str) -> None:
    """Append markdown to the job summary ($GITHUB_STEP_SUMMARY)."""
    _append("GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def _append(variable: str, text: str) -> None:
    path = os.environ.get(variable)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
