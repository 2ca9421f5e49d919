"""`hubship hub` keeps its defaults in step with the settings it does not import."""

from __future__ import annotations

import pytest

from hubship.commands import hub as hub_command
from hubship.config import LOCAL_HUB_PORT
from hubship.hub.app import (
    DEFAULT_LFS_CHUNK_BYTES,
    DEFAULT_LFS_THRESHOLD_BYTES,
    DEFAULT_MAX_BODY_BYTES,
)
from hubship.local_hub_client import prefer_lfs_for_a_local_hub


def test_command_defaults_match_the_settings_and_the_app():
    assert hub_command.LOCAL_HUB_PORT == LOCAL_HUB_PORT
    assert hub_command.DEFAULT_MAX_BODY_BYTES == DEFAULT_MAX_BODY_BYTES
    assert hub_command.DEFAULT_LFS_THRESHOLD_BYTES == DEFAULT_LFS_THRESHOLD_BYTES
    assert hub_command.DEFAULT_LFS_CHUNK_BYTES == DEFAULT_LFS_CHUNK_BYTES


@pytest.mark.parametrize(("environ", "lfs"), [
    ({"HF_ENDPOINT": "http://127.0.0.1:8900"}, True),
    ({"HF_ENDPOINT": "http://localhost:9000/", "HF_TOKEN": "t"}, True),
    ({}, True),  # nothing configured: the embedded hub
    ({"HF_ENDPOINT": "https://huggingface.co"}, False),
    ({"HF_REPO_ID": "team/penguins"}, False),  # a repo on huggingface.co
    ({"HF_TOKEN": "hf_x"}, False),
    ({"GITHUB_ACTIONS": "true"}, False),
    ({"HF_ENDPOINT": "http://127.0.0.1:8900", "HF_HUB_DISABLE_XET": "0"}, False),  # user's
])
def test_clients_of_a_hub_on_this_machine_upload_through_lfs(environ, lfs):
    """`import hubship` sets HF_HUB_DISABLE_XET for them, and only for them."""
    environ = dict(environ)
    prefer_lfs_for_a_local_hub(environ)
    assert (environ.get("HF_HUB_DISABLE_XET") == "1") is lfs
