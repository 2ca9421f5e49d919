"""Liveness, readiness, the release being served, and Prometheus metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hubship.serving.replicas import replica_id
from hubship.serving.responses import detail, json_response
from hubship.serving.state import StateDep

router = APIRouter(tags=["status"])


def zulu(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get("/health")
async def health() -> dict[str, str]:
    """Alive (says nothing about models: see /ready)."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "no release loaded, with the reason"}})
async def ready(request: Request, state: StateDep) -> Response:
    """200 once a release is loaded and an inference worker runs; 503 with the reason and
    what the backend does about it."""
    active = state.active
    if active is None:
        return json_response({"ready": False, "reason": state.reason}, 503)
    if not request.app.state.engine.alive:
        return json_response({"ready": False, "reason": "no inference worker is running; "
                              "restarting it (see the log)"}, 503)
    return json_response({"ready": True, "sha": active.sha})


@router.get("/version", responses={503: {"description": "no release loaded"}})
async def version(request: Request, state: StateDep) -> Response:
    """The release being served: commit sha, tag, release number, where it came from,
    whether its signature was verified, and which replica answers."""
    active = state.active
    if active is None:
        return detail(state.reason, 503)
    model_set = active.model_set
    endpoint = request.app.state.settings.endpoint
    body: dict[str, Any] = {
        "sha": model_set.sha, "tag": model_set.tag, "release": model_set.release,
        "source": model_set.source, "loaded_at": zulu(model_set.loaded_at),
        "revision": model_set.revision, "repo_id": model_set.repo_id,
        "commit_url": f"{endpoint}/{model_set.repo_id}/commit/{model_set.sha}"
        if model_set.sha else None,
        "created_at": zulu(model_set.manifest.created_at),
        "source_commit": model_set.manifest.source.git_commit,
        "source_dirty": model_set.manifest.source.git_dirty,  # uncommitted changes trained
        "verified": model_set.verified,  # signature checked against HUBSHIP_VERIFY_KEY
        "replica": replica_id(),  # which of several replicas answered (verify --replicas)
    }
    return json_response(body)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
