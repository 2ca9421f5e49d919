"""What the backend answers: one pydantic model per response body, the API's one contract.

Three users read it: the routes declare these models (FastAPI validates and serialises them
with pydantic-core, straight to JSON bytes), so the OpenAPI document carries every response
schema; `deploy/verify.py` parses `/version` with `VersionInfo`; the frontend's types are
generated from that document (`scripts/gen_frontend_types.py` writes
`frontend/src/api-types.ts`, and a test fails when it drifts). A new field is one line here,
then `scripts/gen_frontend_types.py`.

A field that a client reads and that an older backend may lack gets a default, so a new client
still reads an old backend; the document still lists it as always sent
(`json_schema_serialization_defaults_required`).

The predict answer is not built from these models: the fast path (`routes_models`) writes a
prebuilt head and the engine's bytes. `OnePrediction` and `Predictions` document it, and
schemathesis checks the real bytes against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hubship.manifest import InputSpec, OutputSpec, PrimaryMetric, Task

Scalar = str | int | float | bool
ReleaseSource = Literal["hub", "cache", "bundled"]
UTC_TIME = "UTC, ISO 8601 to the second: 2026-11-30T12:00:00Z"


class Answer(BaseModel):
    """A response body. Unknown fields are ignored when parsing (a newer backend may send
    more); every field is listed as sent in the OpenAPI document."""

    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)


# ---- status ---------------------------------------------------------------------------------

class Health(Answer):
    status: Literal["ok"] = "ok"


class Ready(Answer):
    """A release is loaded and an inference worker runs (200)."""

    ready: Literal[True] = True
    sha: str | None = Field(description="the served release (null: bundled)")


class NotReady(Answer):
    """Not ready (503): why, and what the backend does about it."""

    ready: Literal[False] = False
    reason: str


class VersionNotReady(NotReady):
    """No release loaded yet (`GET /version`, 503): which replica says so, and why."""

    reason: str = Field(description="why, and what the backend does about it (a Hub that "
                        "fails it: its error, and when it tries again)")
    replica: str = Field(description="which replica answered (verify --replicas)")
    revision: str = Field(description="the revision it tries to load (MODEL_REVISION)")


class VersionInfo(Answer):
    """The release being served (`GET /version`)."""

    sha: str | None = Field(description="its Hub commit; null for the bundled fallback")
    tag: str | None = Field(description="v<N>, when the commit is tagged")
    release: int | None
    source: ReleaseSource = Field(description="where it was loaded from")
    loaded_at: str = Field(description=UTC_TIME)
    revision: str = Field(description="the revision the backend watches (MODEL_REVISION)")
    repo_id: str
    commit_url: str | None
    created_at: str = Field(description=f"when the release was trained; {UTC_TIME}")
    source_commit: str | None = Field(description="the git commit it was trained from")
    source_dirty: bool | None = Field(None, description="trained from uncommitted changes "
                                      "(shown as <commit>+dirty); null when unknown")
    verified: bool = Field(False, description="its signature checked out against "
                           "HUBSHIP_VERIFY_KEY")
    replica: str | None = Field(None, description="which replica answered (verify --replicas); "
                                "null from a backend older than replica ids")
    hub_problem: str | None = Field(None, description="why the last check of the Hub for a new "
                                    "release failed (MODEL_POLL_SECONDS); null while it works: "
                                    "the backend keeps serving this release meanwhile")
    hub_problem_since: str | None = Field(None, description=f"since when the checks fail; "
                                          f"{UTC_TIME}")


class ErrorDetail(Answer):
    """An error, in words: the problem and how to fix it."""

    detail: str


class FieldError(Answer):
    loc: list[str | int] = Field(description='where: ["body", <record index>, <field>]')
    msg: str
    type: str


class InvalidRequest(Answer):
    """A 422: the first HUBSHIP_MAX_ERRORS problems with the body."""

    detail: list[FieldError]


# ---- models and predictions -----------------------------------------------------------------

class ModelSummary(Answer):
    name: str
    task: Task
    estimator: str = Field(description="class path of the fitted estimator")
    metrics: dict[str, float] = Field(description="scored on the release's holdout set")
    primary_metric: PrimaryMetric


class ModelDetail(ModelSummary):
    """One model, with what it takes (types, allowed values and ranges) and gives."""

    inputs: list[InputSpec]
    output: OutputSpec
    example: dict[str, Scalar | None] | None = Field(
        None, description="a typical record (training medians and modes) to start from; null "
        "for a release made before hubship/2")
    array: bool = Field(False, description="trained on an array: a predict body may also be "
                        "a plain list of numbers in the order of `inputs`")


class Classification(Answer):
    label: Scalar
    probabilities: dict[str, float] | None = Field(
        description="per class (keys are the classes as text); null when the model has none")


class Regression(Answer):
    value: float
    unit: str | None


Prediction = Classification | Regression


class OnePrediction(Answer):
    """The answer to one record (an object)."""

    model: str
    sha: str | None = Field(description="the release that answered (null: bundled)")
    release: int | None
    prediction: Prediction
    warnings: list[str] = Field(default_factory=list, description="values outside what the "
                                "model was trained on (it still answered)")


class Predictions(Answer):
    """The answer to a list of records, in their order."""

    model: str
    sha: str | None = Field(description="the release that answered (null: bundled)")
    release: int | None
    predictions: list[Prediction]
    warnings: list[str] = Field(default_factory=list, description="values outside what the "
                                "model was trained on (it still answered)")


# ---- releases -------------------------------------------------------------------------------

class PrimaryValue(Answer):
    name: str
    value: float
    higher_is_better: bool


class ReleaseRow(Answer):
    """One published release (tag v<N>), as `GET /releases` lists it."""

    release: int
    tag: str
    sha: str
    date: str = Field(description=f"its commit's date; {UTC_TIME}")
    title: str | None = Field(description="its commit's title")
    source_commit: str | None = Field(description="the git commit it was trained from")
    source_dirty: bool | None = Field(None, description="trained from uncommitted changes "
                                      "(shown as <commit>+dirty); null when unknown")
    forced: bool = Field(description="published although the gate refused it")
    restores: str | None = Field(description="for a rollback: the tag or sha it restores")
    metrics: dict[str, dict[str, float]] = Field(description="per model, its metrics")
    primary: dict[str, PrimaryValue] = Field(description="per model, its primary metric")


# ---- admin ----------------------------------------------------------------------------------

class ReloadAnswer(Answer):
    status: Literal["reloaded", "unchanged"]
    sha: str | None
    previous_sha: str | None


class WebhookAnswer(Answer):
    status: Literal["reloading", "ignored"]
    reason: str


def zulu(moment: datetime) -> str:
    """A time as the answers write it (`UTC_TIME`)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
