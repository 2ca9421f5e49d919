"""Liveness, readiness, the release being served, and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hubship.serving.answers import Health, NotReady, Ready, VersionInfo, VersionNotReady, zulu
from hubship.serving.replicas import replica_id
from hubship.serving.responses import model_response, refusal
from hubship.serving.state import StateDep

router = APIRouter(tags=["status"])


@router.get("/health")
async def health() -> Health:
    """Alive (says nothing about models: see /ready)."""
    return Health()


@router.get("/ready", response_model=Ready, responses={
    503: refusal("no release loaded, with the reason", NotReady)})
async def ready(request: Request, state: StateDep) -> Ready | Response:
    """200 once a release is loaded and an inference worker runs; 503 with the reason and
    what the backend does about it."""
    active = state.active
    if active is None:
        return model_response(NotReady(reason=state.reason), 503)
    if not request.app.state.engine.alive:
        return model_response(NotReady(reason="no inference worker is running; restarting it "
                                       "(see the log)"), 503)
    return Ready(sha=active.sha)


@router.get("/version", response_model=VersionInfo, responses={
    503: refusal("no release loaded yet: which replica, and why", VersionNotReady)})
async def version(request: Request, state: StateDep) -> VersionInfo | Response:
    """The release being served: commit sha, tag, release number, where it came from,
    whether its signature was verified, and which replica answers (also when it serves
    none yet: the 503 names it)."""
    active = state.active
    if active is None:
        return model_response(VersionNotReady(reason=state.reason, replica=replica_id(),
                                              revision=state.revision), 503)
    model_set = active.model_set
    endpoint = request.app.state.settings.endpoint
    return VersionInfo(
        sha=model_set.sha, tag=model_set.tag, release=model_set.release,
        source=model_set.source, loaded_at=zulu(model_set.loaded_at),
        revision=model_set.revision, repo_id=model_set.repo_id,
        commit_url=f"{endpoint}/{model_set.repo_id}/commit/{model_set.sha}"
        if model_set.sha else None,
        created_at=zulu(model_set.manifest.created_at),
        source_commit=model_set.manifest.source.git_commit,
        source_dirty=model_set.manifest.source.git_dirty,  # uncommitted changes trained
        verified=model_set.verified,  # signature checked against HUBSHIP_VERIFY_KEY
        replica=replica_id(),  # which of several replicas answered (verify --replicas)
        hub_problem=state.hub_problem,
        hub_problem_since=zulu(state.hub_problem_since) if state.hub_problem_since else None,
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
