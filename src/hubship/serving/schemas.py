"""Request models generated from a release's input schema, and readable validation errors.

Built once per release (never per request). Fields are named f0, f1, ... internally with the
input's name as alias, so any input name works (spaces, leading underscores, names that clash
with BaseModel attributes) and a validated record's `__dict__` holds values in input order.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from hubship.manifest import InputSpec, ModelEntry

_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=False)


class InvalidInput(Exception):
    """The body failed validation; `errors` is the 422 `detail` list."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def allowed(spec: InputSpec) -> str:
    """What a field accepts, in words: the allowed values or range."""
    if spec.type == "category":
        text = "one of " + ", ".join(repr(v) for v in spec.values or [])
    elif spec.type == "boolean":
        text = "true or false"
    else:
        kind = "an integer" if spec.type == "integer" else "a number"
        if spec.min is not None and spec.max is not None:
            text = f"{kind} between {_number(spec.min)} and {_number(spec.max)}"
        elif spec.min is not None:
            text = f"{kind} >= {_number(spec.min)}"
        elif spec.max is not None:
            text = f"{kind} <= {_number(spec.max)}"
        else:
            text = kind
    return f"{text}, or null" if spec.nullable else text


def _annotation(spec: InputSpec) -> Any:
    if spec.type == "category":
        annotation: Any = Literal[tuple(spec.values or ())]
    elif spec.type == "boolean":
        annotation = bool
    else:
        bounds = {"ge": spec.min, "le": spec.max}
        python_type = int if spec.type == "integer" else float
        annotation = Annotated[python_type, Field(**{k: v for k, v in bounds.items()
                                                     if v is not None})]
    return annotation | None if spec.nullable else annotation


def _model_title(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", name) if part) + "Input"


def request_model(name: str, entry: ModelEntry) -> type[BaseModel]:
    """One record of model `name`'s inputs, as a pydantic model (also shown in the OpenAPI)."""
    fields: dict[str, Any] = {}
    for index, spec in enumerate(entry.inputs):
        default = None if spec.nullable else ...
        fields[f"f{index}"] = (_annotation(spec), Field(
            default, alias=spec.name, description=allowed(spec),
        ))
    return create_model(_model_title(name), __config__=_CONFIG, **fields)


class RequestParser:
    """Validates a body holding one record or a list of records, straight from JSON bytes."""

    def __init__(self, name: str, entry: ModelEntry) -> None:
        self.model = request_model(name, entry)
        self.one = TypeAdapter(self.model)
        self.many = TypeAdapter(Annotated[list[self.model], Field(min_length=1)])
        self.specs = {spec.name: spec for spec in entry.inputs}

    def parse(self, body: bytes) -> tuple[list[BaseModel], bool]:
        """Return (records, is_list); raise InvalidInput with field-level messages."""
        batched = body.lstrip()[:1] == b"["
        try:
            if batched:
                return self.many.validate_json(body), True
            return [self.one.validate_json(body)], False
        except ValidationError as exc:
            raise InvalidInput(self.describe(exc)) from None

    def describe(self, exc: ValidationError) -> list[dict[str, Any]]:
        fields = ", ".join(self.specs)
        errors = []
        for error in exc.errors(include_url=False):
            loc = list(error["loc"])
            field = loc[-1] if loc and isinstance(loc[-1], str) else None
            spec = self.specs.get(field) if field else None
            kind = error["type"]
            if kind == "missing" and spec:
                msg = f"{field} is required: {allowed(spec)}"
            elif kind == "extra_forbidden":
                msg = f"unknown field {field!r}; this model takes: {fields}"
            elif spec:
                got = repr(error.get("input"))
                got = got if len(got) <= 60 else got[:57] + "..."
                msg = f"{field} must be {allowed(spec)}; got {got}"
            elif kind == "json_invalid":
                msg = f"the body is not valid JSON ({error['ctx'].get('error', 'parse error')})"
            elif kind in {"model_type", "model_attributes_type", "dict_type"}:
                msg = "a record must be a JSON object of input fields, e.g. {" + \
                    ", ".join(f'"{f}": ...' for f in list(self.specs)[:2]) + "}"
            elif kind == "too_short":
                msg = "the list of records is empty; send at least one record"
            else:
                msg = error["msg"]
            errors.append({"loc": ["body", *loc], "msg": msg, "type": kind})
        return errors
