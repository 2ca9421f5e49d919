"""The backend's ASGI app: `uvicorn backend.main:app` (models load at start-up, not here)."""

from __future__ import annotations

from hubship.serving.app import create_app

app = create_app()
