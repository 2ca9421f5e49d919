"""The release history behind `GET /releases`: every `v<N>` tag on the Hub with its
manifest's metrics, newest first.

A tag's commit is immutable, so a definitive answer about it (its manifest, or "it has no
manifest.json") is kept in memory for good; a failure that may pass (rate limit, refused
token, timeout) is not, and that release is left out of this answer only.

Concurrent requests share one read of the Hub (single flight): waiting requests hold no
thread, so a slow Hub cannot starve the worker threads predictions use. The answer (or the
error) is then reused for HUBSHIP_RELEASES_CACHE_SECONDS, and until another release is served
(a reload refreshes it): anonymous traffic cannot multiply Hub requests, which spend the
backend token's rate limit.

Not the publisher's `Registry.releases()`: that one fails the whole list on one bad manifest,
re-reads every manifest each time and drops the commit titles this answer shows. Both read the
tags through `Refs.numbered_tags()`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import cached_property
from time import monotonic
from typing import Any

from hubship.config import Settings
from hubship.errors import HubshipError, HubUnreachableError, ManifestError
from hubship.hub_client import HubClient
from hubship.manifest import Manifest
from hubship.serving.answers import PrimaryValue, ReleaseRow, zulu
from hubship.serving.state import Active, ServingState

log = logging.getLogger("hubship.serving")


@dataclass(frozen=True)
class _Answer:
    """One read of the history (rows, or the error), kept while `served` is served, until
    `until` (time.monotonic)."""

    served: Active | None
    until: float
    rows: list[ReleaseRow] | None
    error: HubshipError | None

    def result(self) -> list[ReleaseRow]:
        if self.error is not None:
            raise self.error
        return self.rows or []


class ReleaseHistory:
    def __init__(self, settings: Settings, api: Any, state: ServingState) -> None:
        self.settings, self.api, self.state = settings, api, state
        self._manifests: dict[str, Manifest | None] = {}  # definitive answers only
        self._titles: dict[str, tuple[str, str]] = {}
        self._reading: asyncio.Future[list[ReleaseRow]] | None = None
        self._answer: _Answer | None = None

    @cached_property
    def hub(self) -> HubClient:
        """Built on first use: a missing HF_REPO_ID is then this route's 503, not a crash."""
        return HubClient.for_backend(self.settings, api=self.api)

    async def releases(self) -> list[ReleaseRow]:
        """The history: the kept answer while it is fresh, else the read in flight, else a new
        read (on the event loop only)."""
        answer = self._answer
        if answer is not None and answer.served is self.state.active \
                and monotonic() < answer.until:
            return answer.result()
        if self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(self._read_and_keep(self.state.active))
            # retrieved even when every waiter went away, so no "never retrieved" warning
            self._reading.add_done_callback(lambda done: done.cancelled() or done.exception())
        return await asyncio.shield(self._reading)

    async def _read_and_keep(self, served: Active | None) -> list[ReleaseRow]:
        until = monotonic() + self.settings.releases_cache_seconds
        try:
            rows = await asyncio.to_thread(self.read)
        except HubshipError as exc:
            self._answer = _Answer(served, until, None, exc)
            raise
        self._answer = _Answer(served, until, rows, None)
        return rows

    def read(self) -> list[ReleaseRow]:
        """One read of the Hub (blocking; one at a time, see `releases`)."""
        numbered = self.hub.refs().numbered_tags()
        try:
            self._commit_titles({sha for _, _, sha in numbered})
        except HubshipError as exc:
            log.warning("no commit titles: %s", exc.message)
        return [row for number, name, sha in numbered
                if (row := self._row(number, name, sha)) is not None]

    def _manifest(self, sha: str) -> Manifest | None:
        if sha in self._manifests:
            return self._manifests[sha]
        try:
            manifest = self.hub.read_manifest(sha)  # None: a definitive 404
            problem = None if manifest else "the commit holds no manifest.json"
        except ManifestError as exc:  # the commit's bytes never change, nor does this answer
            manifest, problem = None, exc.message
        except HubUnreachableError:
            raise  # the whole answer is a 503
        except HubshipError as exc:  # may pass (a refused token, ...): not kept, asked again
            log.warning("release %s left out for now: %s", sha[:12], exc.message)
            return None
        if problem:
            log.warning("release %s has no readable manifest: %s", sha[:12], problem)
        self._manifests[sha] = manifest
        return manifest

    def _commit_titles(self, shas: set[str]) -> None:
        if shas <= self._titles.keys():
            return
        for commit in self.hub.commits():
            self._titles[commit.commit_id] = (commit.title, zulu(commit.created_at))

    def _row(self, number: int, tag: str, sha: str) -> ReleaseRow | None:
        manifest = self._manifest(sha)
        if manifest is None:
            return None
        title, date = self._titles.get(sha, (None, zulu(manifest.created_at)))
        models = manifest.models.items()
        return ReleaseRow(
            release=manifest.release or number, tag=tag, sha=sha, date=date,
            title=title or manifest.source.git_subject,
            source_commit=manifest.source.git_commit,
            source_dirty=manifest.source.git_dirty, forced=manifest.forced,
            restores=manifest.restores,
            metrics={name: entry.metrics for name, entry in models},
            primary={name: PrimaryValue(name=entry.primary_metric.name,
                                        value=entry.metrics[entry.primary_metric.name],
                                        higher_is_better=entry.primary_metric.higher_is_better)
                     for name, entry in models},
        )
