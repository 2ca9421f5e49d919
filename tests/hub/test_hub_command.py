"""`hubship hub` keeps its defaults in step with the settings it does not import."""

from __future__ import annotations

from hubship.commands import hub as hub_command
from hubship.config import LOCAL_HUB_PORT
from hubship.hub.app import DEFAULT_MAX_BODY_BYTES


def test_command_defaults_match_the_settings_and_the_app():
    assert hub_command.LOCAL_HUB_PORT == LOCAL_HUB_PORT
    assert hub_command.DEFAULT_MAX_BODY_BYTES == DEFAULT_MAX_BODY_BYTES
