"""`GET /releases`: every published release with its metrics, newest first (read and kept by
`release_history.ReleaseHistory`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hubship.errors import HubshipError
from hubship.serving.answers import ReleaseRow
from hubship.serving.release_history import ReleaseHistory
from hubship.serving.responses import detail, explain, refusal

router = APIRouter(tags=["releases"])


@router.get("/releases", response_model=list[ReleaseRow],
            responses={503: refusal("the Hub is unreachable")})
async def releases(request: Request) -> list[ReleaseRow] | Response:
    """Every published release (tag v<N>) with its metrics, newest first, read from the Hub."""
    history: ReleaseHistory = request.app.state.history
    try:
        return await history.releases()
    except HubshipError as exc:
        return detail(explain(exc, request.app.state.settings.secrets()), 503)
