"""Loading and swapping releases: the first load, retries, /admin/reload, webhooks, polling.

Every load verifies the whole release in a worker thread (the event loop keeps answering
predictions), has the inference processes load its models from the verified files
(`engine.open`: the backend itself never unpickles them; with a thread worker it does, in that
thread), builds its predictors from what they loaded, and only then swaps it in. One lock
serialises loads, the first one included, and the revision a reload loads is read under it (a
poll waiting behind a pinned reload then follows the pin). A reload never moves to an older
release number unless the caller pinned a revision. Every Hub call has a timeout
(`hub_client.bound_hub_requests`), so the lock is never held forever by a Hub that does not
answer. Retrying (the recovery loop, the poll) goes through tenacity; each policy is stated
where it is used.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_never,
    wait_exponential,
)

from hubship.config import Settings
from hubship.errors import HubshipError, HubUnreachableError, RepoNotFound, RevisionNotFound
from hubship.hub_client import SHA_RE, HubClient
from hubship.loader import ModelSet, find_tag, load_from_hub, load_release
from hubship.serving.engine import InferenceEngine
from hubship.serving.hub_webhook import HubWebhook, webhook_decision
from hubship.serving.inference_process import ModelToLoad
from hubship.serving.metrics import ServingMetrics
from hubship.serving.replicas import first_poll_delay, poll_delay
from hubship.serving.responses import explain
from hubship.serving.schemas import RequestLimits
from hubship.serving.state import Active, ServingState, next_key
from hubship.serving.workers import ReleaseNotLoaded

if TYPE_CHECKING:
    from huggingface_hub import HfApi

log = logging.getLogger("hubship.serving")
RETRY_CAP_SECONDS = 60.0
FIRST_LOAD_REASON = "loading the first release"


class ReloadFailed(Exception):
    """A reload did not happen; the current release stays. `status` is the HTTP answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class ReloadResult:
    status: Literal["reloaded", "unchanged"]
    sha: str | None
    previous_sha: str | None


class _NotFromTheHub(Exception):
    """A recovery attempt that ended with no release from the Hub served; `problem` says why."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def freeze_heap() -> None:
    """Collect garbage once, then keep every object alive now (the release, the libraries)
    out of the garbage collector's sight.

    A full collection walks every object: with scikit-learn, pandas and pydantic loaded that
    is 0.1-0.3 s during which no thread runs, /health included, and the objects each
    prediction makes trigger one every few seconds under load (bench/predict_limits.py).
    Frozen objects are never walked again; what requests make still is. Unfrozen first, so
    the release just replaced can be collected: one such pause per swap, not per few seconds.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def check_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret with the configured one."""
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


class Reloader:
    def __init__(self, settings: Settings, state: ServingState, metrics: ServingMetrics,
                 api: HfApi | None, engine: InferenceEngine) -> None:
        self.settings, self.state, self.metrics, self.api = settings, state, metrics, api
        self.limits = RequestLimits(settings.max_records, settings.max_errors)
        self.engine = engine
        self.lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[None]] = set()
        self.first_load: asyncio.Task[None] | None = None
        self.rng = random.Random()  # the poll's jitter

    @cached_property
    def hub(self) -> HubClient:
        """Built on first use (`api`: the tests' client): a missing HF_REPO_ID is then a reason
        /ready gives, not a crash."""
        return HubClient.for_backend(self.settings, api=self.api)

    def _install(self, active: Active) -> Active | None:
        """Swap `active` in (its models are in the inference workers: `engine.open`)."""
        previous = self.state.swap(active)
        freeze_heap()
        # freed once its last request is answered; a renamed copy of the same release (a tag
        # made after it was loaded) keeps its key, and its models in the workers
        if previous is not None and previous.key != active.key:
            self.engine.retire(previous.key)
        self.metrics.serving(active.model_set)
        model_set = active.model_set
        label = model_set.tag or (f"release {model_set.release}" if model_set.release
                                  else "an unpublished release")
        log.info("serving %s (sha %s, source %s)", label, model_set.sha, model_set.source)
        return previous

    # ---- start-up and recovery ------------------------------------------------------------

    def start(self) -> None:
        """Start the first load in the background: the app answers /health at once, and /ready
        says "loading the first release" until it is done."""
        self.state.reason = FIRST_LOAD_REASON
        self.metrics.ready.set(0)
        self.first_load = self._spawn(self._first_load())

    async def loaded(self) -> None:
        """Wait until the first load has finished (whether or not it gave a release)."""
        if self.first_load is not None:
            await asyncio.shield(self.first_load)

    async def _first_load(self) -> None:
        """The whole fallback chain once; then keep retrying the Hub, and poll if asked to."""
        await self._load_whole_chain()
        active = self.state.active
        if active is None or active.model_set.source != "hub":
            self._spawn(self._recover())
        if self.settings.model_poll_seconds > 0:
            self._spawn(self._poll())

    async def _load_whole_chain(self, *, retry: bool = False) -> str | None:
        """Hub, cache, bundled (`loader.load_release`) under the lock, and install what it
        gives. None once a release is served; else why not, which /ready says."""
        async with self.lock:
            if self.state.active is not None:  # a reload got there first
                return None
            try:
                active = await self._activate(await asyncio.to_thread(self._load_chain))
            except Exception as exc:  # any failure leaves the process up and not ready
                self.state.reason = self._reason(exc)
                if retry:
                    log.warning("retry failed: %s", self.state.reason)
                elif isinstance(exc, RepoNotFound | RevisionNotFound):  # before the first
                    log.warning("not ready: %s", self.state.reason)  # publish: expected
                else:
                    log.error("not ready: %s", self.state.reason)
                return self.state.reason
            self._install(active)
            return None

    def _load_chain(self) -> ModelSet:
        return load_release(self.settings, hub=self.hub, revision=self.state.revision,
                            unpickle=self.engine.count == 0)

    async def _activate(self, model_set: ModelSet) -> Active:
        """`model_set` (verified) ready to answer: its models in the inference processes
        (ReleaseNotLoaded if one cannot load them), its predictors built."""
        if self.engine.count == 0:  # a thread worker runs the estimators unpickled here
            return await asyncio.to_thread(Active.build, model_set, self.limits)
        key = next_key()
        described = await self.engine.open(key, {
            name: ModelToLoad(model.file, model.entry.task, model.entry.output.unit,
                              model.entry.output.classes)
            for name, model in model_set.models.items() if model.file is not None})
        try:
            return await asyncio.to_thread(Active.build, model_set, self.limits, described, key)
        except BaseException:
            self.engine.retire(key)  # e.g. a model fitted on columns its manifest lacks
            raise

    def _reason(self, exc: BaseException) -> str:
        """For /ready, the reload answers and the log: the problem and its hint, redacted."""
        return explain(exc, self.settings.secrets())

    async def _recover(self) -> None:
        """Retry until the Hub serves what MODEL_REVISION names.

        While nothing is served, a retry runs the whole fallback chain again, as the first
        load did: the reason /ready shows then says all that was tried (the Hub, the cache,
        the bundled release), not only the Hub's error. While the cache or the bundled release
        is served, a retry asks the Hub only. The first load was the first try.
        """
        # every 1, 2, 4 ... 60 s, for as long as it takes; /ready shows the next wait
        policy = AsyncRetrying(retry=retry_if_exception_type(_NotFromTheHub), stop=stop_never,
                               wait=wait_exponential(max=RETRY_CAP_SECONDS),
                               before_sleep=self._show_next_retry, sleep=asyncio.sleep)
        problem = self.state.reason or "not serving a release from the Hub"
        async for attempt in policy:
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    problem = await self._retry_once(problem)
                if not self._served_from_hub():
                    raise _NotFromTheHub(problem)

    def _served_from_hub(self) -> bool:
        active = self.state.active
        return active is not None and active.model_set.source == "hub"

    def _show_next_retry(self, retry: RetryCallState) -> None:
        failed = retry.outcome.exception() if retry.outcome else None
        problem = failed.problem if isinstance(failed, _NotFromTheHub) else self.state.reason
        wait = retry.next_action.sleep if retry.next_action else 0.0
        self.state.reason = f"{problem}; retrying in {wait:.0f} s"

    async def _retry_once(self, problem: str) -> str:
        """One recovery attempt; what is still wrong afterwards."""
        if self._served_from_hub():  # a deploy or reload loaded it during the wait: never
            return problem           # move on our own past what it installed
        if self.state.active is None:
            problem = await self._load_whole_chain(retry=True) or problem
            self.metrics.reload("failed" if self.state.active is None else "reloaded")
            return problem
        try:
            await self.reload(allow_older=True, force=True)
        except ReloadFailed as exc:
            log.warning("retry failed: %s", exc.detail)
            return exc.detail
        return problem

    async def _poll(self) -> None:
        """Check the watched revision every MODEL_POLL_SECONDS, with jitter
        (`replicas.first_poll_delay`, `poll_delay`)."""
        interval = self.settings.model_poll_seconds
        # a failing check is asked again 2, 4, 8 ... intervals later, at most 10 x max(interval,
        # 60 s) apart, until it works; then back to the jittered interval
        policy = AsyncRetrying(retry=retry_if_exception_type(ReloadFailed), stop=stop_never,
                               wait=wait_exponential(multiplier=2 * interval,
                                                     max=max(interval, RETRY_CAP_SECONDS) * 10),
                               before_sleep=_log_poll_failure, sleep=asyncio.sleep)
        await asyncio.sleep(first_poll_delay(interval, self.rng))
        while True:
            if self.state.active is not None:  # else the recovery loop owns the backend
                await policy(self._poll_once)
            await asyncio.sleep(poll_delay(interval, self.rng))

    async def _poll_once(self) -> None:
        """One poll: a HEAD on the watched revision's manifest (`HubClient.head_commit`); the
        full reload only when that names another commit, fails for another reason than a Hub
        that does not answer (the reload says what is wrong), or the served release is not the
        Hub's with its tag. A watched commit sha cannot move: then there is nothing to ask."""
        watched, current = self.state.revision, self.state.active
        if (current is not None and current.model_set.source == "hub"
                and current.model_set.tag is not None):
            if SHA_RE.match(watched):
                return
            try:
                sha: str | None = await asyncio.to_thread(self.hub.head_commit, watched)
            except HubUnreachableError as exc:  # asking it again now would not help: one
                problem = self._reason(exc)     # request per poll, even while it is down
                self.metrics.reload("failed")
                self.state.hub_check(problem)
                raise ReloadFailed(502, problem) from None
            except Exception:  # any other failure (no such revision, no manifest, refused):
                sha = None     # the reload below says what is wrong, in its words
            if sha is not None and sha == current.sha:
                self.metrics.reload("unchanged")
                self.state.hub_check(None)
                return
        try:
            await self.reload()
        except ReloadFailed as exc:
            self.state.hub_check(exc.detail)
            raise
        self.state.hub_check(None)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    # ---- one reload -------------------------------------------------------------------------

    async def reload(self, revision: str | None = None, *, allow_older: bool = False,
                     force: bool = False) -> ReloadResult:
        """Load `revision` (default: the watched one) from the Hub and swap it in.

        `revision` pins: the backend then watches it and may move to an older release.
        `force` reloads even when the sha is unchanged (to move from cache to the Hub).
        """
        pinned = revision is not None
        async with self.lock:
            target = revision or self.state.revision  # under the lock: a pin may just have landed
            current = self.state.active
            previous_sha = current.sha if current else None
            try:
                sha = await asyncio.to_thread(self.hub.resolve, target)
                if (current is not None and current.sha == sha and not force
                        and current.model_set.source == "hub"):
                    self.state.revision = target
                    if current.model_set.tag is None:  # loaded before its tag was made
                        await self._tag_if_tagged_now(current)
                    self.metrics.reload("unchanged")
                    return ReloadResult("unchanged", sha, previous_sha)
                model_set = await asyncio.to_thread(self._load_one, target, sha)
            except HubshipError as exc:
                status = 502 if isinstance(exc, HubUnreachableError) else 409
                self.metrics.reload("failed")
                raise ReloadFailed(status, self._reason(exc)) from None
            except Exception as exc:  # a model that cannot be unpickled or prepared
                self.metrics.reload("failed")
                log.exception("reload of %s failed", target)
                raise ReloadFailed(409, self._reason(exc)) from None
            new_release, old_release = model_set.release, (
                current.model_set.release if current else None)
            if (not pinned and not allow_older and new_release is not None
                    and old_release is not None and new_release < old_release):
                self.metrics.reload("refused")
                raise ReloadFailed(409, (
                    f"{target} is release v{new_release}, older than the served "
                    f"v{old_release}; send {{\"revision\": \"v{new_release}\"}} to roll back"))
            try:
                active = await self._activate(model_set)
            except Exception as exc:  # a process could not load it, or its predictors fail
                self.metrics.reload("failed")
                if not isinstance(exc, ReleaseNotLoaded | HubshipError):
                    log.exception("reload of %s failed", target)
                raise ReloadFailed(409, self._reason(exc)) from None
            self._install(active)
            self.state.revision = target
            self.metrics.reload("reloaded")
            return ReloadResult("reloaded", sha, previous_sha)

    async def _tag_if_tagged_now(self, current: Active) -> None:
        """Name the served release by the tag it got after it was loaded (a publish that died
        between its commit and its tag leaves main untagged until a retry tags it)."""
        model_set = current.model_set
        tag = await asyncio.to_thread(find_tag, self.hub, model_set.sha or "", model_set.release)
        if tag is not None:
            self._install(replace(current, model_set=replace(model_set, tag=tag)))

    def _load_one(self, revision: str, sha: str) -> ModelSet:
        return load_from_hub(self.settings, hub=self.hub, revision=revision, sha=sha,
                             unpickle=self.engine.count == 0)

    # ---- webhooks ---------------------------------------------------------------------------

    def webhook_decision(self, payload: HubWebhook) -> tuple[bool, str]:
        """Whether a Hub webhook concerns this repo and the watched ref, and why."""
        return webhook_decision(payload, repo_id=self.settings.repo_id,
                                watched=self.state.revision)

    def reload_in_background(self) -> None:
        async def run() -> None:
            try:
                result = await self.reload()
                log.info("webhook reload: %s (%s)", result.status, result.sha)
            except ReloadFailed as exc:
                log.warning("webhook reload failed: %s", exc.detail)

        self._spawn(run())


def _log_poll_failure(retry: RetryCallState) -> None:
    failed = retry.outcome.exception() if retry.outcome else None
    if isinstance(failed, ReloadFailed):
        log.warning("poll: %s", failed.detail)
