"""The publisher sends a hub on this machine the token configured for it (the demo's own,
through HF_TOKEN) or none: never a token the client finds stored on the machine."""

from __future__ import annotations

import os
from pathlib import Path

from hubship.config import Settings
from hubship.registry import Registry


def test_a_hub_on_this_machine_gets_its_own_token_or_none(start_hub, monkeypatch):
    stored = Path(os.environ["HF_HOME"]) / "token"  # what `hf auth login` writes
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text("hf_stored_for_huggingface_co")
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(stored))
    hub = start_hub(token="demo-token")
    try:
        without = Registry.from_settings(Settings.load(hf_endpoint=hub.url,
                                                       hf_repo_id="local/models"))
        assert without.api.token is False  # not the stored one

        own = Registry.from_settings(Settings.load(hf_endpoint=hub.url, hf_token="demo-token",
                                                   hf_repo_id="local/models"))
        own.ensure_repo()
        assert own.refs().head is not None
    finally:
        stored.unlink()
