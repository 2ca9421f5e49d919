"""Request models generated from a release's input schema, and readable validation errors.

Built once per release (never per request). Fields are named f0, f1, ... internally with the
input's name as alias, so any input name works (spaces, leading underscores, names that clash
with BaseModel attributes) and a validated record's `__dict__` holds values in input order.

Limits (`RequestLimits`), so that no body costs much whatever it holds (the costly part is not
validating but the error objects: a 1 MB body can make pydantic build 100,000 errors, each with
a copy of its input, and converting or freeing them holds the GIL for tenths of a second):
- the shape first, counted on the bytes (`_check_shape`): at most `max_records` records, each
  one JSON object of scalar values (so at most max_records + 1 objects and arrays), and a
  bounded number of fields; else a 422 that names the limit, before any parsing;
- a list longer than `max_records` is refused by its length alone (pydantic checks it first):
  the OpenAPI document says `maxItems`, so this is a 422 like any body off the schema;
- a 422 lists the first `max_errors` errors and counts the rest; when there are many, the
  first ones are found again record by record (`_first_errors`), not converted all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pydantic_core
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    Strict,
    TypeAdapter,
    ValidationError,
    conlist,
    create_model,
)
from pydantic_core import ErrorDetails

from hubship.manifest import InputSpec, ModelEntry

_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=False)
CONVERTED_AT_ONCE = 1000  # more errors than this: find the first ones record by record
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # unrolled: quick on long strings
_CONTAINER_VALUE = re.compile(rb":\s*[\[{]")  # an object or array as a field's value


@dataclass(frozen=True)
class RequestLimits:
    """HUBSHIP_MAX_RECORDS and HUBSHIP_MAX_ERRORS (see `config.Settings`)."""

    max_records: int = 1000
    max_errors: int = 20


class InvalidInput(Exception):
    """The body failed validation; `errors` is the 422 `detail` list."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def too_many_records(message: str) -> InvalidInput:
    """More records (or JSON objects and arrays) than HUBSHIP_MAX_RECORDS allows."""
    return InvalidInput([{"loc": ["body"], "msg": message, "type": "too_many_records"}])


def _counted(records: int | str, limit: int) -> InvalidInput:
    return too_many_records(f"{records} records in one request; at most {limit} are accepted "
                            "(the limit is HUBSHIP_MAX_RECORDS): send them in batches")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _range(kind: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{kind} between {_number(low)} and {_number(high)}"
    if low is not None:
        return f"{kind} >= {_number(low)}"
    if high is not None:
        return f"{kind} <= {_number(high)}"
    return kind


def allowed(spec: InputSpec) -> str:
    """What a field accepts, in words: the allowed values or declared limits."""
    if spec.type == "category":
        text = ("one of " if not spec.accepts_unknown else "usually one of ") + \
            ", ".join(repr(v) for v in spec.values or [])
    elif spec.type == "boolean":
        text = "true or false"
    elif spec.type == "text":
        text = f"a text of at most {spec.max_length} characters" if spec.max_length else "a text"
    else:
        kind = "an integer" if spec.type == "integer" else "a number"
        text = _range(kind, spec.limit_min, spec.limit_max)
    return f"{text}, or null" if spec.nullable else text


def training_range(spec: InputSpec) -> str:
    """The OpenAPI description's second half: where a warning starts."""
    if spec.type in ("number", "integer") and (spec.min is not None or spec.max is not None):
        return f" (trained on {_range('values', spec.min, spec.max)}: a warning outside)"
    return ""


def _annotation(spec: InputSpec) -> Any:
    if spec.type == "category" and spec.accepts_unknown:
        kinds = {type(v) for v in spec.values or ()}
        annotation: Any = kinds.pop() if len(kinds) == 1 else str | int | float | bool
    elif spec.type == "category":
        annotation = Literal[tuple(spec.values or ())]
    elif spec.type == "boolean":
        annotation = bool
    elif spec.type == "text":
        annotation = Annotated[str, Field(max_length=spec.max_length)]
    else:
        # strict: a number is a JSON number (never true, nor "5"); an integer a whole one
        python_type = int if spec.type == "integer" else float
        annotation = Annotated[python_type, Strict(),
                               Field(ge=spec.limit_min, le=spec.limit_max)]  # None: no bound
    return annotation | None if spec.nullable else annotation


def _model_title(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", name) if part) + "Input"


def request_model(name: str, entry: ModelEntry) -> type[BaseModel]:
    """One record of model `name`'s inputs, as a pydantic model (also shown in the OpenAPI,
    with the model's example record)."""
    fields: dict[str, Any] = {}
    example = entry.example or {}
    for index, spec in enumerate(entry.inputs):
        default = None if spec.nullable else ...
        value = example.get(spec.name)
        fields[f"f{index}"] = (_annotation(spec), Field(
            default, alias=spec.name, description=allowed(spec) + training_range(spec),
            examples=[value] if value is not None else None,
        ))
    config = _CONFIG
    if entry.example is not None:
        record: dict[str, JsonValue] = {key: value for key, value in entry.example.items()}
        config = ConfigDict(**_CONFIG, json_schema_extra={"examples": [record]})
    return create_model(_model_title(name), __config__=config, **fields)


def _outside_strings(body: bytes) -> tuple[int, int, int]:
    """Objects, arrays and fields in `body`, what is inside JSON strings not counted.

    The strings are found one at a time, so the GIL is free between them: one substitution
    over a body of many short strings would hold it for a tenth of a second per MB.
    """
    objects = arrays = fields = position = 0
    for match in _JSON_STRING.finditer(body):
        start, end = match.span()
        objects += body.count(b"{", position, start)
        arrays += body.count(b"[", position, start)
        fields += body.count(b":", position, start)
        position = end
    return (objects + body.count(b"{", position), arrays + body.count(b"[", position),
            fields + body.count(b":", position))


class RequestParser:
    """Validates a body holding one record or a list of records, straight from JSON bytes."""

    def __init__(self, name: str, entry: ModelEntry, limits: RequestLimits | None = None
                 ) -> None:
        self.name, self.limits = name, limits or RequestLimits()
        self.model = request_model(name, entry)
        self.one = TypeAdapter(self.model)
        self.many = TypeAdapter(conlist(self.model, min_length=1,
                                        max_length=self.limits.max_records))
        self.specs = {spec.name: spec for spec in entry.inputs}
        self.array = entry.array  # a plain list of values is one record, a list of lists many
        # a valid body has at most max_records * inputs fields; past this bound, more than
        # max_errors of them are certainly wrong (not listed one by one)
        self.max_fields = self.limits.max_records * (len(self.specs) + self.limits.max_errors)

    def parse(self, body: bytes) -> tuple[list[BaseModel], bool]:
        """Return (records, is_list); raise InvalidInput with field-level messages."""
        self._check_shape(body)
        start = body.lstrip()[:2]
        batched = start[:1] == b"["
        if self.array and batched and start[1:2] != b"{":
            return self._parse_values(body)
        try:
            if batched:
                return self.many.validate_json(body), True
            return [self.one.validate_json(body)], False
        except ValidationError as exc:
            raise self._refusal(exc, body, batched) from None

    def _parse_values(self, body: bytes) -> tuple[list[BaseModel], bool]:
        """A model trained on an array: `[x0, x1, ...]` (one record) or a list of them."""
        try:
            parsed = pydantic_core.from_json(body, allow_inf_nan=False)
        except ValueError as exc:
            raise InvalidInput([{"loc": ["body"], "type": "json_invalid",
                                 "msg": f"the body is not valid JSON ({exc})"}]) from None
        batched = bool(parsed) and all(isinstance(row, list) for row in parsed)
        rows = parsed if batched else [parsed]
        names = list(self.specs)
        records = []
        for index, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != len(names):
                got = f"{len(row)} values" if isinstance(row, list) else repr(row)[:40]
                loc = ["body", index] if batched else ["body"]
                raise InvalidInput([{"loc": loc, "type": "wrong_length", "msg": (
                    f"a record of model {self.name!r} is a list of {len(names)} numbers "
                    f"({names[0]}..{names[-1]}) or an object of them; got {got}")}])
            records.append(dict(zip(names, row, strict=True)))
        if len(records) > self.limits.max_records:
            raise _counted(len(records), self.limits.max_records)
        try:
            if batched:
                return self.many.validate_python(records), True
            return [self.one.validate_python(records[0])], False
        except ValidationError as exc:
            raise InvalidInput(self.describe(exc.errors(include_url=False)[
                :self.limits.max_errors])) from None

    def _check_shape(self, body: bytes) -> None:
        """Count JSON objects, arrays and fields on the bytes: first with what may be inside
        strings (a quick upper bound), and only when that is over a limit, without it."""
        limit = self.limits.max_records
        objects, arrays, fields = body.count(b"{"), body.count(b"["), body.count(b":")
        if objects + arrays <= limit + 1 and fields <= self.max_fields:
            return
        objects, arrays, fields = _outside_strings(body)
        containers = objects + arrays
        if containers > limit + 1:
            # no object nor array after a colon (nor inside a string, the search being
            # cruder): a list of flat records, each one "{"
            if arrays <= 1 and not _CONTAINER_VALUE.search(body):
                raise _counted(objects, limit)
            raise too_many_records(
                f"the body holds {containers} JSON objects or arrays, but a record's values are "
                f"numbers, strings, booleans or null: {limit} records (the limit is "
                f"HUBSHIP_MAX_RECORDS) hold at most {limit + 1}")
        if fields > self.max_fields:
            raise InvalidInput([{"loc": ["body"], "type": "too_many_fields", "msg": (
                f"the body holds {fields} fields; model {self.name!r} takes "
                f"{len(self.specs)} per record ({', '.join(self.specs)})")}])

    def _refusal(self, exc: ValidationError, body: bytes, batched: bool) -> InvalidInput:
        total, limit = exc.error_count(), self.limits.max_errors
        if batched and total == 1:  # maybe too_long, whose input is the whole list: not copied
            [error] = exc.errors(include_url=False, include_input=False)
            if error["type"] == "too_long":
                return _counted(error.get("ctx", {}).get("actual_length", "too many"),
                                self.limits.max_records)
        if total <= CONVERTED_AT_ONCE:
            errors = exc.errors(include_url=False)[:limit]
        else:
            errors = self._first_errors(exc, body, batched)
        described = self.describe(errors)
        if total > len(described):
            described.append({"loc": ["body"], "type": "too_many_errors", "msg": (
                f"and {total - len(described)} more errors: only the first {len(described)} "
                "are listed (HUBSHIP_MAX_ERRORS); fix these and send the body again")})
        return InvalidInput(described)

    def _first_errors(self, exc: ValidationError, body: bytes, batched: bool
                      ) -> list[ErrorDetails]:
        """The first `max_errors` errors, found by validating one record at a time; a record
        keeps its known fields and its first `max_errors` unknown ones (the errors of the
        others would not be listed)."""
        limit = self.limits.max_errors
        try:
            parsed = pydantic_core.from_json(body)
        except ValueError:  # parses for validate_json, not here (a huge number): no inputs
            return exc.errors(include_url=False, include_input=False)[:limit]
        records = parsed if batched else [parsed]
        found: list[ErrorDetails] = []
        for index, record in enumerate(records):
            if isinstance(record, dict) and len(record) > len(self.specs) + limit:
                unknown = [key for key in record if key not in self.specs][:limit]
                record = {key: value for key, value in record.items()
                          if key in self.specs or key in unknown}
            try:
                self.one.validate_json(pydantic_core.to_json(record))
            except ValidationError as record_exc:
                for error in record_exc.errors(include_url=False):
                    error["loc"] = (index, *error["loc"]) if batched else error["loc"]
                    found.append(error)
            if len(found) >= limit:
                break
        return found[:limit]

    def describe(self, errors: list[ErrorDetails]) -> list[dict[str, Any]]:
        """pydantic's errors as 422 `detail` items whose messages name the field and what it
        accepts."""
        fields = ", ".join(self.specs)
        described = []
        for error in errors:
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
            described.append({"loc": ["body", *loc], "msg": msg, "type": kind})
        return described
