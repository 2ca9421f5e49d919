"""Load the models the backend serves: a thin entry point over `hubship.loader`.

`load_models()` resolves MODEL_REVISION on the Hub, downloads and verifies that release, and
falls back to the cached release, then to the bundled `backend/model_assets/`.
"""

from __future__ import annotations

from hubship.config import Settings
from hubship.loader import LoadedModel, ModelSet, load_release

__all__ = ["LoadedModel", "ModelSet", "load_models"]


def load_models(settings: Settings | None = None) -> ModelSet:
    """The release MODEL_REVISION names, loaded and verified (see hubship.loader)."""
    return load_release(settings or Settings.load())
