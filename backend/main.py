"""The backend's ASGI app: `uvicorn backend.main:app` (models load at start-up, not here)."""

from __future__ import annotations

from hubship.serving.inference_process import start_early

start_early()  # the inference processes import pandas and scikit-learn while this one goes on

from hubship.serving.app import create_app  # noqa: E402

app = create_app()
