"""OpenAPI that documents the served release: each model's request schema, built from its
manifest, is added to /docs (regenerated when the release changes)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PREDICT_PATH = "/models/{name}/predict"


def install_openapi(app: FastAPI) -> None:
    cache: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        active = app.state.serving.active
        key = f"{active.sha}:{active.model_set.loaded_at}" if active else ""
        if cache.get("key") == key and "schema" in cache:
            return cache["schema"]
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes)
        if active is not None:
            _add_models(schema, active)
        cache.update(key=key, schema=schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_models(schema: dict[str, Any], active: Any) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    choices = []
    for name, predictor in active.predictors.items():
        model = predictor.parser.model
        model_schema = model.model_json_schema(
            by_alias=True, ref_template="#/components/schemas/{model}")
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema
        ref = {"$ref": f"#/components/schemas/{model.__name__}"}
        choices += [ref, {"type": "array", "items": ref, "minItems": 1,
                          "title": f"{name}: several records"}]
    operation = schema.get("paths", {}).get(PREDICT_PATH, {}).get("post")
    if operation is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"anyOf": choices}}}}
        operation["description"] = (operation.get("description", "") + "\n\nModels in release "
                                    f"{active.model_set.tag or active.sha}: "
                                    + ", ".join(active.predictors))
