"""The OpenAPI document, true to what the backend answers (schemathesis checks it in the tests).

- Bodies the routes read themselves (to word their own errors) are documented with
  `documented_body(Model)`: the model and the models it uses go to `components/schemas`, so
  every `$ref` resolves.
- Predictions: one path per model of the served release (`/models/species/predict`, ...), each
  with that model's own request body, built from its manifest; the templated
  `/models/{name}/predict` is documented only while no release is loaded. `GET /models/{name}`
  lists the served names. Regenerated when the release changes.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

PREDICT_PATH = "/models/{name}/predict"
REF = "#/components/schemas/{model}"
_BODIES: dict[str, type[BaseModel]] = {}  # filled by documented_body() as routes are declared


def documented_body(model: type[BaseModel], *, required: bool) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its JSON body itself: the body is `model`."""
    _BODIES[model.__name__] = model
    return {"requestBody": {"required": required, "content": {"application/json": {
        "schema": {"$ref": REF.format(model=model.__name__)}}}}}


def install_openapi(app: FastAPI, *, max_records: int) -> None:
    cache: dict[str, dict[str, Any]] = {}  # one entry: what the schema was built for -> it

    def openapi() -> dict[str, Any]:
        active = app.state.serving.active
        key = f"{active.sha}:{active.model_set.loaded_at}" if active else ""
        if key in cache:
            return cache[key]
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in _BODIES.values():
            _add_model(components, model)
        if active is not None:
            _predict_paths(schema, active, max_records)
            _model_names(schema, sorted(active.predictors))
        cache.clear()
        cache[key] = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_model(components: dict[str, Any], model: type[BaseModel]) -> dict[str, str]:
    """Put `model`'s JSON schema (and the models it refers to) in `components`; its $ref."""
    model_schema = model.model_json_schema(by_alias=True, ref_template=REF)
    components.update(model_schema.pop("$defs", {}))
    components[model.__name__] = model_schema
    return {"$ref": REF.format(model=model.__name__)}


def _model_names(schema: dict[str, Any], names: list[str]) -> None:
    describe = schema.get("paths", {}).get("/models/{name}", {}).get("get", {})
    for parameter in describe.get("parameters", []):
        if parameter.get("name") == "name":
            parameter["schema"] = {**parameter.get("schema", {}), "enum": names}


def _predict_paths(schema: dict[str, Any], active: Any, max_records: int) -> None:
    """Replace the templated predict path by one path per model, each with its own body."""
    paths = schema.get("paths", {})
    template = paths.pop(PREDICT_PATH, {}).get("post")
    if template is None:
        return
    components = schema["components"]["schemas"]
    release = active.model_set.tag or active.sha or "(bundled)"
    for name, predictor in active.predictors.items():
        ref = _add_model(components, predictor.parser.model)
        operation = copy.deepcopy(template)
        operation["parameters"] = [p for p in operation.get("parameters", [])
                                   if p.get("name") != "name"]
        if not operation["parameters"]:
            del operation["parameters"]
        operation["operationId"] = f"predict_{name}"
        operation["summary"] = f"Predict with {name}"
        operation["description"] = (f"{template.get('description', '')}\n\nModel {name!r} of "
                                    f"release {release}.")
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"anyOf": [ref, {"type": "array", "items": ref, "minItems": 1,
                                       "maxItems": max_records,
                                       "title": f"{name}: several records"}]}}}}
        paths[f"/models/{name}/predict"] = {"post": operation}
