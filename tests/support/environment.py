"""Which environment variables the tests clear, so a developer's exported settings never
change a result.

Derived from `hubship.config.Settings`: every field's variable (the env prefix plus the field
name, which pydantic-settings reads with `populate_by_name`, and every alias), so a new
setting is cleared without anyone listing it. Plus the few variables hubship reads that are
not settings (GitHub's output files).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from pydantic import AliasChoices, AliasPath

from hubship.config import Settings

# read by hubship but not Settings fields: the GitHub Actions step output files
NOT_SETTINGS = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")


def _alias_names(alias: str | AliasPath | AliasChoices | None) -> list[str]:
    if alias is None:
        return []
    if isinstance(alias, str):
        return [alias]
    if isinstance(alias, AliasPath):
        return [str(alias.path[0])]
    return [name for choice in alias.choices for name in _alias_names(choice)]


def settings_variables() -> frozenset[str]:
    """Every environment variable a `Settings()` reads (upper case: case_sensitive=False)."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"{prefix}{name}")
        names.update(_alias_names(field.alias))
        names.update(_alias_names(field.validation_alias))
    return frozenset(name.upper() for name in names)


def isolate_environment(monkeypatch: pytest.MonkeyPatch, keep: Mapping[str, str]) -> None:
    """Clear every setting (and `NOT_SETTINGS`), then set the ones in `keep` (the session's
    hub, the test's own HUBSHIP_HOME)."""
    for name in sorted(settings_variables() | set(NOT_SETTINGS)):
        monkeypatch.delenv(name, raising=False)
    for name, value in keep.items():
        monkeypatch.setenv(name, value)
