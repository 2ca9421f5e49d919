"""What a Hub webhook says (huggingface.co's repo webhooks, `POST /hooks/huggingface`), and
whether it concerns the repo and revision this backend watches."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from hubship.hub_client import SHA_RE


class _HubPart(BaseModel):
    # the Hub adds fields over time: keep what we do not read, check the type of what we do
    model_config = ConfigDict(extra="allow")


class WebhookEvent(_HubPart):
    action: str | None = None
    scope: str | None = None


class WebhookRepo(_HubPart):
    type: str | None = "model"
    name: str | None = None
    headSha: str | None = None


class UpdatedRef(_HubPart):
    ref: str | None = None
    oldSha: str | None = None
    newSha: str | None = None


class HubWebhook(_HubPart):
    """A Hub webhook body: `{event: {action, scope}, repo: {type, name, headSha},
    updatedRefs: [{ref, oldSha, newSha}], webhook: {id, version}}`; every part optional."""

    event: WebhookEvent | None = None
    repo: WebhookRepo | None = None
    updatedRefs: list[UpdatedRef] | None = None


def webhook_decision(payload: HubWebhook, *, repo_id: str, watched: str) -> tuple[bool, str]:
    """Whether a Hub webhook concerns `repo_id` and the `watched` revision, and why."""
    repo, event = payload.repo or WebhookRepo(), payload.event or WebhookEvent()
    if repo.type != "model" or repo.name != repo_id:
        return False, f"not this repo (watching {repo_id})"
    if not (event.scope or "").startswith("repo.content"):
        return False, f"event scope {event.scope!r} does not change content"
    if SHA_RE.match(watched):
        return False, f"pinned to commit {watched[:12]}, which cannot change"
    if payload.updatedRefs is None:
        return True, f"content changed; checking {watched}"
    names = {f"refs/heads/{watched}", f"refs/tags/{watched}"}
    if any(ref.ref in names for ref in payload.updatedRefs):
        return True, f"{watched} moved"
    return False, f"{watched} did not move"
