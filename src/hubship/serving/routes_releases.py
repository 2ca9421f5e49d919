"""Release history from the Hub: every `v<N>` tag with its manifest's metrics, newest first.

A tag's commit is immutable, so each manifest is fetched once per sha and kept in memory.
"""

from __future__ import annotations

import logging
from functools import cached_property
from threading import Lock
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from hubship.config import Settings
from hubship.errors import HubshipError, HubUnreachableError
from hubship.loader import TAG_RE, backend_registry, hub_call
from hubship.manifest import Manifest
from hubship.registry import Registry
from hubship.serving.responses import detail, json_response
from hubship.serving.routes_health import zulu

log = logging.getLogger("hubship.serving")
router = APIRouter(tags=["releases"])


class ReleaseHistory:
    def __init__(self, settings: Settings, api: Any) -> None:
        self.settings, self.api = settings, api
        self._manifests: dict[str, Manifest | None] = {}
        self._titles: dict[str, tuple[str, str]] = {}
        self._lock = Lock()

    @cached_property
    def registry(self) -> Registry:
        """Built on first use: a missing HF_REPO_ID is then this route's 503, not a crash."""
        return backend_registry(self.settings, self.api)

    def _manifest(self, sha: str) -> Manifest | None:
        if sha not in self._manifests:
            try:
                manifest = self.registry.read_manifest(sha)
                problem = None if manifest else "the commit holds no manifest.json"
            except HubshipError as exc:
                if isinstance(exc, HubUnreachableError):
                    raise
                manifest, problem = None, exc.message
            if problem:
                log.warning("release %s has no readable manifest: %s", sha[:12], problem)
            self._manifests[sha] = manifest  # a tag's commit never changes: cached for good
        return self._manifests[sha]

    def _commit_titles(self, shas: set[str]) -> None:
        if shas <= self._titles.keys():
            return
        settings = self.settings
        commits = hub_call(settings, "listing commits",
                           lambda: self.api.list_repo_commits(settings.repo_id))
        for commit in commits:
            self._titles[commit.commit_id] = (commit.title, zulu(commit.created_at))

    def releases(self) -> list[dict[str, Any]]:
        with self._lock:
            numbered = sorted(((int(m.group(1)), name, sha)
                               for name, sha in self.registry.tags().items()
                               if (m := TAG_RE.match(name))), key=lambda x: x[0], reverse=True)
            try:
                self._commit_titles({sha for _, _, sha in numbered})
            except HubshipError as exc:
                log.warning("no commit titles: %s", exc.message)
            return [row for number, name, sha in numbered
                    if (row := self._row(number, name, sha)) is not None]

    def _row(self, number: int, tag: str, sha: str) -> dict[str, Any] | None:
        manifest = self._manifest(sha)
        if manifest is None:
            return None
        title, date = self._titles.get(sha, (None, zulu(manifest.created_at)))
        return {
            "release": manifest.release or number, "tag": tag, "sha": sha, "date": date,
            "title": title or manifest.source.git_subject, "source_commit":
            manifest.source.git_commit, "forced": manifest.forced, "restores": manifest.restores,
            "metrics": {name: entry.metrics for name, entry in manifest.models.items()},
            "primary": {name: {"name": entry.primary_metric.name,
                               "value": entry.metrics[entry.primary_metric.name],
                               "higher_is_better": entry.primary_metric.higher_is_better}
                        for name, entry in manifest.models.items()},
        }


@router.get("/releases", responses={503: {"description": "the Hub is unreachable"}})
async def releases(request: Request) -> Response:
    """Every published release (tag v<N>) with its metrics, newest first, read from the Hub."""
    history: ReleaseHistory = request.app.state.history
    try:
        rows = await run_in_threadpool(history.releases)
    except HubshipError as exc:
        return detail(exc.message, 503)
    return json_response(rows)
