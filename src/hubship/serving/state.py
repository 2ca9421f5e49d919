"""What the backend serves right now: one `Active` release, swapped whole.

A request reads `state.active` once and uses that object to the end, so a reload that swaps
the attribute mid-request never mixes two releases; the old one is freed when the last
request holding it finishes. Swaps happen on the event loop thread, so they are atomic.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated

import orjson
from fastapi import Depends, Request

from hubship.loader import ModelSet
from hubship.serving.predictor import Predictor, build_predictors
from hubship.serving.runner import ModelRunner
from hubship.serving.schemas import RequestLimits

_keys = itertools.count(1)


def next_key() -> int:
    """A new release key, unique in this process (it names a release to the workers)."""
    return next(_keys)


@dataclass(frozen=True)
class Active:
    """A loaded release with its predictors, ready to answer."""

    model_set: ModelSet
    predictors: Mapping[str, Predictor]
    unknown_model: str  # the tail of the 404 message: "available: a, b"
    heads: Mapping[str, bytes]  # per model, the answer up to its prediction: {"model": .., 
    key: int = field(default_factory=next_key)  # names it to the inference workers

    @classmethod
    def build(cls, model_set: ModelSet, limits: RequestLimits | None = None,
              described: Mapping[str, ModelRunner] | None = None, key: int | None = None
              ) -> Active:
        """`described` and `key`: the models as the inference processes loaded them under
        `key` (`InferenceEngine.open`), when the backend did not unpickle them."""
        predictors = build_predictors(model_set, limits, described)
        heads = {name: orjson.dumps({"model": name, "sha": model_set.sha,
                                     "release": model_set.release})[:-1] + b","
                 for name in predictors}
        return cls(model_set, predictors, "available: " + ", ".join(sorted(predictors)),
                   MappingProxyType(heads), next_key() if key is None else key)

    @property
    def sha(self) -> str | None:
        return self.model_set.sha


class ServingState:
    def __init__(self, revision: str) -> None:
        self.active: Active | None = None
        self.reason = "loading the release"
        self.revision = revision  # the revision watched by reloads (MODEL_REVISION, or a pin)
        # the poll's last failure while a release is served (None while the Hub answers):
        # /version says so, and the replica keeps serving what it has
        self.hub_problem: str | None = None
        self.hub_problem_since: datetime | None = None  # the first failure in a row

    def hub_check(self, problem: str | None) -> None:
        """Record how the last check of the Hub went (None: it worked)."""
        if problem is None:
            self.hub_problem = self.hub_problem_since = None
            return
        if self.hub_problem_since is None:
            self.hub_problem_since = datetime.now(UTC)
        self.hub_problem = problem

    def swap(self, active: Active) -> Active | None:
        previous, self.active = self.active, active
        return previous


def serving_state(request: Request) -> ServingState:
    state: ServingState = request.app.state.serving  # set by create_app
    return state


StateDep = Annotated[ServingState, Depends(serving_state)]
