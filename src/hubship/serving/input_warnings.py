"""Warnings for valid input the model was not trained on: the training range is a drift
signal, not a validity rule.

A number outside its training `min`/`max` (inside any declared hard limits, which the request
model enforces) and a category value not seen in training (for an input that `accepts_unknown`)
is predicted, and the answer carries a warning per value:
"bill_length_mm 61.0 is above the training maximum 59.6". The predict route counts each in
`hubship_input_out_of_range_total{model,input}`.

Built once per release; per record it reads only the fields that can warn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hubship.manifest import ModelEntry


def _number(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Warned:
    """One value outside what training saw: where it is, its input, the warning."""

    loc: tuple[Any, ...]
    input: str
    message: str


@dataclass(frozen=True)
class InputWatch:
    ranges: tuple[tuple[str, str, float | None, float | None], ...]  # attr, name, min, max
    known: tuple[tuple[str, str, frozenset[Any]], ...]  # attr, name, values seen in training

    @classmethod
    def build(cls, entry: ModelEntry) -> InputWatch:
        ranges, known = [], []
        for index, spec in enumerate(entry.inputs):
            if spec.type in ("number", "integer") and (spec.min is not None
                                                       or spec.max is not None):
                ranges.append((f"f{index}", spec.name, spec.min, spec.max))
            elif spec.type == "category" and spec.accepts_unknown:
                known.append((f"f{index}", spec.name, frozenset(spec.values or ())))
        return cls(tuple(ranges), tuple(known))

    @property
    def idle(self) -> bool:
        return not self.ranges and not self.known

    def check(self, records: list[Any], *, batched: bool) -> list[Warned]:
        """One per value outside what training saw, records in order."""
        found: list[Warned] = []
        for index, record in enumerate(records):
            prefix = f"record {index}: " if batched else ""
            loc: tuple[Any, ...] = ("body", index) if batched else ("body",)
            for attr, name, low, high in self.ranges:
                value = getattr(record, attr)
                if value is None:
                    continue
                if low is not None and value < low:
                    found.append(Warned((*loc, name), name, f"{prefix}{name} {value!r} is below "
                                        f"the training minimum {_number(low)}"))
                elif high is not None and value > high:
                    found.append(Warned((*loc, name), name, f"{prefix}{name} {value!r} is above "
                                        f"the training maximum {_number(high)}"))
            for attr, name, values in self.known:
                value = getattr(record, attr)
                if value is not None and value not in values:
                    found.append(Warned((*loc, name), name, f"{prefix}{name} {value!r} was not "
                                        "seen in training; the model ignores it"))
        return found
