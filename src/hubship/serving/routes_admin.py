"""Hot reload: /admin/reload (bearer ADMIN_TOKEN) and the Hub webhook receiver.

Both routes answer 404 while their secret is unset: an unconfigured backend exposes no way to
change what it serves.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hubship.serving.answers import InvalidRequest, ReloadAnswer, WebhookAnswer
from hubship.serving.hub_webhook import HubWebhook
from hubship.serving.openapi import documented_body
from hubship.serving.reload import Reloader, ReloadFailed, check_secret
from hubship.serving.responses import detail, refusal

log = logging.getLogger("hubship.serving")
router = APIRouter(tags=["admin"])
# auto_error=False: the route answers 404 (route off) or its own 401 message itself
admin_bearer = HTTPBearer(auto_error=False, scheme_name="AdminToken",
                          description="ADMIN_TOKEN, as `Authorization: Bearer <token>`")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(admin_bearer)]
webhook_secret = APIKeyHeader(name="X-Webhook-Secret", auto_error=False,
                              scheme_name="WebhookSecret", description="HF_WEBHOOK_SECRET")
WebhookSecretDep = Annotated[str | None, Depends(webhook_secret)]
BODY_TOO_LARGE = refusal("body larger than HUBSHIP_MAX_BODY_BYTES")


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    revision: str | None = Field(
        None, min_length=1, max_length=256,
        description="branch, tag or sha to pin; omit to reload the watched revision",
    )


def _reloader(request: Request) -> Reloader:
    reloader: Reloader = request.app.state.reloader  # set in the app's lifespan
    return reloader


@router.post(
    "/admin/reload", response_model=ReloadAnswer,
    responses={401: refusal("bad token"), 404: refusal("ADMIN_TOKEN unset"),
               409: refusal("reload refused"), 413: BODY_TOO_LARGE,
               422: refusal("not a reload request body", InvalidRequest),
               502: refusal("Hub failed")},
    openapi_extra=documented_body(ReloadRequest, required=False),
)
async def reload(request: Request, bearer: BearerDep) -> ReloadAnswer | Response:
    """Load the watched revision (or the pinned one in the body) and swap it in atomically."""
    settings = request.app.state.settings
    if settings.admin_token is None:
        return detail("Not Found", 404)
    token = bearer.credentials if bearer is not None else None
    if not check_secret(token, settings.admin_token.get_secret_value()):
        return Response(b'{"detail":"missing or wrong bearer token"}', status_code=401,
                        media_type="application/json",
                        headers={"WWW-Authenticate": "Bearer"})
    raw = await request.body()
    try:
        body = ReloadRequest.model_validate_json(raw) if raw.strip() else ReloadRequest()
    except ValidationError as exc:
        return detail([{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                       for e in exc.errors(include_url=False)], 422)
    try:
        result = await _reloader(request).reload(body.revision)
    except ReloadFailed as exc:
        log.warning("admin reload refused: %s", exc.detail)  # a refused signature shows here
        return detail(exc.detail, exc.status)
    return ReloadAnswer(status=result.status, sha=result.sha, previous_sha=result.previous_sha)


@router.post(
    "/hooks/huggingface", status_code=202, response_model=WebhookAnswer,
    responses={401: refusal("bad secret"), 404: refusal("secret unset"),
               413: BODY_TOO_LARGE, 422: refusal("not a Hub webhook body", InvalidRequest)},
    openapi_extra=documented_body(HubWebhook, required=True),
)
async def huggingface_webhook(request: Request, secret: WebhookSecretDep
                              ) -> WebhookAnswer | Response:
    """A Hub webhook: reload when this repo's watched ref moved."""
    settings = request.app.state.settings
    if settings.hf_webhook_secret is None:
        return detail("Not Found", 404)
    if not check_secret(secret, settings.hf_webhook_secret.get_secret_value()):
        return detail("missing or wrong X-Webhook-Secret", 401)
    raw = await request.body()
    try:
        payload = HubWebhook.model_validate_json(raw)
    except ValidationError as exc:
        return detail(_webhook_errors(exc), 422)
    reloader = _reloader(request)
    act, reason = reloader.webhook_decision(payload)
    if act:
        reloader.reload_in_background()
    return WebhookAnswer(status="reloading" if act else "ignored", reason=reason)


def _webhook_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Field-level errors; a body that is not JSON, or not an object, says so plainly."""
    errors = exc.errors(include_url=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return [{"loc": ["body"], "msg": "the body is not JSON", "type": "json_invalid"}]
    return [{"loc": ["body", *e["loc"]],
             "msg": "the body must be a JSON object (a Hub webhook payload)" if not e["loc"]
             else f"{'.'.join(map(str, e['loc']))}: {e['msg']}",
             "type": e["type"]}
            for e in errors]
