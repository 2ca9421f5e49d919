"""Fitted pipelines wrapped to misbehave on purpose: a model that raises on one record, gives
NaN for one, or is slow. Picklable and importable on their own (this module imports nothing
heavy), so an inference process unpickles them like any user's custom class."""

from __future__ import annotations

import time
from typing import Any


class Wrapped:
    """Delegates everything (classes_, feature_names_in_, ...) to a fitted pipeline."""

    def __init__(self, inner: Any, bill_length_mm: float = 0.0, seconds: float = 0.0) -> None:
        self.inner, self.bill_length_mm, self.seconds = inner, bill_length_mm, seconds

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "inner" not in self.__dict__:
            raise AttributeError(name)  # unpickling looks attributes up before they are set
        return getattr(self.inner, name)

    def chosen(self, features: Any) -> Any:
        return (features["bill_length_mm"] == self.bill_length_mm).to_numpy()


class RaisesOn(Wrapped):
    """Raises for any batch holding a record with this bill length."""

    def predict_proba(self, features: Any) -> Any:
        if self.chosen(features).any():
            raise ValueError(f"cannot handle bill_length_mm={self.bill_length_mm}")
        return self.inner.predict_proba(features)


class NaNOn(Wrapped):
    """Answers NaN probabilities for the records with this bill length."""

    def predict_proba(self, features: Any) -> Any:
        probabilities = self.inner.predict_proba(features)
        probabilities[self.chosen(features)] = float("nan")
        return probabilities


class Slow(Wrapped):
    """Takes `seconds` per call."""

    def predict_proba(self, features: Any) -> Any:
        time.sleep(self.seconds)
        return self.inner.predict_proba(features)


class SlowToLoad(Wrapped):
    """Takes `seconds` to unpickle (a big model): a process can be caught loading it."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        time.sleep(state["seconds"])
        self.__dict__.update(state)


class TwoPerRecord(Wrapped):
    """Gives two results per record (as a model with two outputs would, flattened)."""

    def predict_proba(self, features: Any) -> Any:
        return self.inner.predict_proba(features).repeat(2, axis=0)
