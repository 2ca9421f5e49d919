"""The hand-written references bench/serving.py runs beside hubship (uvicorn --factory):

  fastapi   what a user would hand-write: pydantic bodies, a DataFrame, the model, a dict back
  floor     bare Starlette: orjson.loads, a DataFrame, the model, orjson.dumps

Both predict one request at a time on the event loop, from the joblib files in $BENCH_ASSETS.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

RECORDS = {
    "species": {"island": "Torgersen", "sex": "male", "bill_length_mm": 39.1,
                "bill_depth_mm": 18.7, "flipper_length_mm": 181.0, "body_mass_g": 3750.0},
    "body_mass": {"species": "Gentoo", "island": "Biscoe", "sex": "female",
                  "bill_length_mm": 46.1, "bill_depth_mm": 13.2, "flipper_length_mm": 211.0},
}


class Penguin(BaseModel):
    island: str
    sex: str | None = None
    bill_length_mm: float | None = None
    bill_depth_mm: float | None = None
    flipper_length_mm: float | None = None
    body_mass_g: float | None = None


class Measurements(BaseModel):
    species: str
    island: str
    sex: str | None = None
    bill_length_mm: float
    bill_depth_mm: float
    flipper_length_mm: float


def _load_models() -> dict:
    import joblib

    assets = Path(os.environ["BENCH_ASSETS"])
    return {name: joblib.load(assets / "models" / f"{name}.joblib") for name in RECORDS}


def fastapi_app():
    """What a user would hand-write: pydantic bodies, a DataFrame, the model, a dict back."""
    import pandas as pd
    from fastapi import FastAPI

    models = _load_models()
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.post("/predict/species")
    async def species(penguin: Penguin) -> dict:
        model = models["species"]
        probabilities = model.predict_proba(pd.DataFrame([penguin.model_dump()]))[0]
        classes = model.classes_.tolist()
        best = int(probabilities.argmax())
        return {"label": classes[best],
                "probabilities": dict(zip(classes, probabilities.tolist(), strict=True))}

    @app.post("/predict/body_mass")
    async def body_mass(measurements: Measurements) -> dict:
        value = models["body_mass"].predict(pd.DataFrame([measurements.model_dump()]))[0]
        return {"value": float(value), "unit": "g"}

    return app


def floor_app():
    """The floor: bare Starlette, orjson in and out, the model called directly."""
    import orjson
    import pandas as pd
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    models = _load_models()
    columns = {name: list(model.feature_names_in_) for name, model in models.items()}
    classes = models["species"].classes_.tolist()

    async def health(request):
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def echo(request):
        """The species route without the model (one DataFrame-free canned answer): the
        floor's own HTTP + framework cost, measured rather than subtracted."""
        record = orjson.loads(await request.body())
        probabilities = [1.0 if record["island"] == "Torgersen" else 0.0, 0.0, 0.0]
        return Response(orjson.dumps({"label": classes[0], "probabilities": dict(
            zip(classes, probabilities, strict=True))}), media_type="application/json")

    async def species(request):
        record = orjson.loads(await request.body())
        frame = pd.DataFrame([record], columns=columns["species"])
        probabilities = models["species"].predict_proba(frame)[0].tolist()
        best = max(range(len(classes)), key=probabilities.__getitem__)
        return Response(orjson.dumps({"label": classes[best], "probabilities": dict(
            zip(classes, probabilities, strict=True))}), media_type="application/json")

    async def body_mass(request):
        record = orjson.loads(await request.body())
        frame = pd.DataFrame([record], columns=columns["body_mass"])
        value = float(models["body_mass"].predict(frame)[0])
        return Response(orjson.dumps({"value": value, "unit": "g"}),
                        media_type="application/json")

    return Starlette(routes=[
        Route("/health", health), Route("/predict/species", species, methods=["POST"]),
        Route("/predict/body_mass", body_mass, methods=["POST"]),
        Route("/echo/species", echo, methods=["POST"]),
    ])
