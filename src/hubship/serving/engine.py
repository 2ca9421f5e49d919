"""The inference engine: a bounded queue on the event loop, adaptive batches, inference workers.

    HTTP handler: parse -> validate -> `submit` (rows of one request) -> await its answer
    engine:       a worker is free -> take the oldest request's model and release, and more of
                  the same up to HUBSHIP_MAX_BATCH rows -> one model call in that worker ->
                  each request gets its own answer or error

Decisions:
- Adaptive batching: when the server was idle, a free worker takes what is queued at once (a
  lone request pays no wait; requests queue up while a batch runs, so batches grow with the
  load). Under load, that is while another batch runs or when the batch a worker just
  finished held several requests (their clients answer and send again), a free worker waits
  up to HUBSHIP_BATCH_WAIT_MS for a fuller batch: until that batch's rows wait again beside
  those that waited meanwhile (its clients are back; HUBSHIP_MAX_BATCH at most), counted
  from when its answers are written (writing them takes the event loop a while).
- One batch, one release: requests are grouped by predictor, which belongs to one release; a
  request keeps the release it read when it arrived. Worker processes hold every release some
  request still waits on (`open` before the swap, `retire` after it, dropped when its last
  request is answered), so a reload never fails or mixes a batch.
- Bounded: past HUBSHIP_QUEUE_ROWS queued rows a request gets 503 with Retry-After at once;
  each request has HUBSHIP_PREDICT_TIMEOUT seconds, then 504. A worker process that dies
  answers its batch's requests 503 and is restarted; nothing is left waiting.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from hubship.serving.runner import JobFailed, JobResult, Rows
from hubship.serving.workers import (
    Batch,
    Described,
    OpenMessage,
    ProcessWorker,
    ReleaseNotLoaded,
    ThreadWorker,
    WorkerDied,
)

log = logging.getLogger("hubship.serving")
RESTART_DELAY_CAP = 30.0


def worker_count(setting: str) -> int:
    """HUBSHIP_INFERENCE_WORKERS: `auto` = the cores this process may use; 0 = a thread."""
    if setting == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    return int(setting)


@dataclass(eq=False, slots=True)
class Job:
    """One request's rows, waiting for its answer."""

    predictor: Any  # a serving.predictor.Predictor, of release `release`
    release: int
    rows: Rows
    future: asyncio.Future[JobResult]
    arrived: float
    queued: bool = True
    answered: bool = False  # its future may be done without an answer: cancelled


class InferenceEngine:
    def __init__(self, *, workers: int, max_batch: int, batch_wait: float, queue_rows: int,
                 timeout: float, metrics: Any) -> None:
        self.count, self.max_batch, self.batch_wait = workers, max_batch, batch_wait
        self.queue_rows, self.timeout, self.metrics = queue_rows, timeout, metrics
        self.queues: dict[int, deque[Job]] = {}  # by id(predictor), oldest first
        self.queued_rows = 0
        self.in_flight = 0  # batches running
        self.workers: list[ThreadWorker | ProcessWorker] = []
        self.idle: deque[ThreadWorker | ProcessWorker] = deque()
        self.releases: dict[int, OpenMessage] = {}  # what worker processes hold, by Active.key
        self.waiting: Counter[int] = Counter()  # release key -> requests not yet answered
        self.retired: set[int] = set()
        self.started = asyncio.Event()
        self.wake: asyncio.TimerHandle | None = None
        self.unanswered: deque[Job] = deque()  # oldest first: their deadlines in order
        self.deadline: asyncio.TimerHandle | None = None  # the oldest one's
        self.late = JobFailed(504, f"no answer within {timeout:g} s "
                                   "(HUBSHIP_PREDICT_TIMEOUT); the server is overloaded")
        self.no_worker = JobFailed(503, f"no answer within {timeout:g} s: no inference worker "
                                        "is running (it is being restarted; the log says "
                                        "why); retry shortly")
        self.hold_until = 0.0  # after a batch of several requests: wait for the next ones
        self.enough = max_batch  # ... until this many rows wait (that batch's and the others)
        self.tasks: set[asyncio.Task[None]] = set()  # starts and restarts, cancelled at stop
        self.batches: set[asyncio.Task[None]] = set()  # running: finish or fail, never cancelled
        self.full = JobFailed(503, f"the server is busy: more than {queue_rows} records are "
                                   "waiting; retry shortly")
        metrics.watch_engine(self)

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers in the background (/health answers meanwhile)."""
        self.loop = asyncio.get_running_loop()
        if self.count == 0:
            self.workers = [ThreadWorker(0)]
        else:
            self.workers = [ProcessWorker(i, self._restart) for i in range(self.count)]
        self._spawn(self._start_all())

    async def _start_all(self) -> None:
        results = await asyncio.gather(*(w.start(self.releases) for w in self.workers),
                                       return_exceptions=True)
        for worker, result in zip(self.workers, results, strict=True):
            if isinstance(result, BaseException):
                log.error("inference worker %s did not start: %s", worker.index, result)
                self._restart(worker)  # type: ignore[arg-type]
            else:
                self._add(worker)
        self.started.set()

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(w.stop() for w in self.workers), return_exceptions=True)
        for timer in (self.wake, self.deadline):
            if timer is not None:
                timer.cancel()
        gone = JobFailed(503, "the server is shutting down; retry")
        for queue in self.queues.values():
            for job in queue:
                self._finish(job, gone)
        self.queues.clear()

    def _add(self, worker: ThreadWorker | ProcessWorker) -> None:
        self.idle.append(worker)
        self._dispatch()

    def _restart(self, worker: ProcessWorker) -> None:
        if worker in self.idle:
            self.idle.remove(worker)
        self.metrics.worker_restarts.inc()

        async def again() -> None:
            delay = 0.5
            while True:
                try:
                    await worker.start(self.releases)
                except (WorkerDied, ReleaseNotLoaded, OSError) as exc:
                    log.error("inference worker %s did not start: %s; retrying in %.0f s",
                              worker.index, exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RESTART_DELAY_CAP)
                else:
                    log.info("inference worker %s restarted (pid %s)", worker.index, worker.pid)
                    self._add(worker)
                    return

        self._spawn(again())

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    @property
    def alive(self) -> int:
        return sum(1 for w in self.workers if w.alive)

    # ---- releases -----------------------------------------------------------------------------

    async def open(self, key: int, models: dict[str, Any]) -> dict[str, Any]:
        """Have every worker process load release `key` from its checked model files
        (`inference_process.ModelToLoad`); the models as they describe them (what
        `Active.build` needs). ReleaseNotLoaded if one cannot, or none is running."""
        await self.started.wait()
        message = ("open", key, models)
        self.releases[key] = message
        results = await asyncio.gather(
            *(w.open(key, message) for w in self.workers if w.alive), return_exceptions=True)
        failed = [r for r in results if isinstance(r, ReleaseNotLoaded)]
        if failed:
            self._forget(key)
            raise failed[0]
        if not self.alive:  # none running: restarts load it; say why the wait
            log.warning("no inference process is running yet; requests wait for a restart")
        described: Described = next((r for r in results if isinstance(r, dict)), None)
        if described is None:
            self._forget(key)
            raise ReleaseNotLoaded("no inference process is running to load the release "
                                   "(see the log: they fail to start)")
        return described

    def retire(self, key: int) -> None:
        """`key` is no longer served: free it in the workers once its last request is answered."""
        if self.waiting[key] == 0:
            self._forget(key)
        else:
            self.retired.add(key)

    def _forget(self, key: int) -> None:
        self.retired.discard(key)
        self.waiting.pop(key, None)
        if self.releases.pop(key, None) is not None:
            for worker in self.workers:  # a restarting one too: it may have loaded it already
                worker.drop(key)

    # ---- requests -----------------------------------------------------------------------------

    def submit(self, release: int, predictor: Any, rows: Rows
               ) -> asyncio.Future[JobResult] | JobFailed:
        """Queue one request's rows; its answer (JSON bytes or a JobFailed) comes in the
        future. A full queue answers at once (a JobFailed with status 503)."""
        size = len(rows)
        if self.queued_rows and self.queued_rows + size > self.queue_rows:
            return self.full
        loop = self.loop
        job = Job(predictor, release, rows, loop.create_future(), loop.time())
        self.unanswered.append(job)
        if self.deadline is None:
            self.deadline = loop.call_at(job.arrived + self.timeout, self._expire)
        queue = self.queues.get(id(predictor))
        if queue is None:
            queue = self.queues[id(predictor)] = deque()
        queue.append(job)
        self.queued_rows += size
        self.waiting[release] += 1
        if self.idle:
            self._dispatch()
        return job.future

    def _expire(self) -> None:
        """Answer 504 to every request past its deadline; wake again at the next deadline.
        One timer for all requests: they arrive in deadline order, so the oldest unanswered
        one's deadline is the next (a timer per request cost more than its queueing)."""
        self.deadline = None
        unanswered, due = self.unanswered, self.loop.time() - self.timeout
        late = self.late if self.alive else self.no_worker
        while unanswered and (unanswered[0].answered or unanswered[0].arrived <= due):
            self._finish(unanswered.popleft(), late)
        if unanswered:
            self.deadline = self.loop.call_at(unanswered[0].arrived + self.timeout,
                                              self._expire)

    def _finish(self, job: Job, result: JobResult) -> None:
        """Answer `job` once (a 504 comes before its batch's answer, say); a request whose
        awaiting task was cancelled is still counted out, so its release can be freed."""
        if job.answered:
            return
        job.answered = True
        if job.queued:
            job.queued = False
            self.queued_rows -= len(job.rows)
        if not job.future.done():
            job.future.set_result(result)
        key = job.release
        self.waiting[key] -= 1
        if self.waiting[key] == 0 and key in self.retired:
            self._forget(key)

    def _oldest(self) -> deque[Job] | None:
        oldest, best = None, None
        for key, queue in list(self.queues.items()):
            while queue and not queue[0].queued:  # answered already (deadline)
                queue.popleft()
            if not queue:
                del self.queues[key]
            elif best is None or queue[0].arrived < best:
                oldest, best = queue, queue[0].arrived
        return oldest

    def _dispatch(self) -> None:
        while self.idle and self.queued_rows > 0:
            queue = self._oldest()
            if queue is None:
                return
            if self.queued_rows < self.enough:  # under load, wait a moment for more
                due = self.hold_until
                if self.in_flight:
                    due = max(due, queue[0].arrived + self.batch_wait)
                if self.loop.time() < due:
                    if self.wake is None:
                        self.wake = self.loop.call_at(due, self._woken)
                    return
            jobs: list[Job] = []
            rows = 0
            while queue and (not jobs or rows + len(queue[0].rows) <= self.max_batch):
                job = queue.popleft()
                if job.queued:
                    job.queued = False
                    self.queued_rows -= len(job.rows)
                    rows += len(job.rows)
                    jobs.append(job)
            if jobs:
                self.in_flight += 1
                task = self.loop.create_task(self._run(self.idle.popleft(), jobs, rows))
                self.batches.add(task)
                task.add_done_callback(self.batches.discard)

    def _woken(self) -> None:
        self.wake = None
        self._dispatch()

    async def _run(self, worker: ThreadWorker | ProcessWorker, jobs: list[Job],
                   rows: int) -> None:
        first = jobs[0]
        batch = Batch(first.release, first.predictor.name, first.predictor.runner,
                      [job.rows for job in jobs])
        self.metrics.batch_rows.observe(rows)
        try:
            done = await worker.run(batch)
            results = done.results
            self.metrics.model_seconds.labels(batch.name).inc(done.model_seconds)
        except WorkerDied as exc:
            results = [JobFailed(503, str(exc))] * len(jobs)
        except Exception as exc:  # a bug of ours, not the model's: answer, never hang
            log.exception("inference batch failed")
            results = [JobFailed(500, f"inference failed: {type(exc).__name__}: {exc}")] * len(
                jobs)
        finally:
            self.in_flight -= 1
            if len(jobs) > 1:
                self.hold_until = self.loop.time() + self.batch_wait
                # its clients come back, to find the requests that waited meanwhile
                self.enough = min(self.queued_rows + rows, self.max_batch)
            if worker.alive:
                self.idle.append(worker)
        for job, result in zip(jobs, results, strict=True):
            self._finish(job, result)
        unanswered = self.unanswered
        while unanswered and unanswered[0].answered:  # keep only those still waiting
            unanswered.popleft()
        if len(jobs) > 1:
            self.loop.call_soon(self._hold)
        self._dispatch()

    def _hold(self) -> None:
        """Runs once the answers of a batch of several requests are written (their tasks
        were scheduled before this callback): the wait for their clients' next requests
        starts now. Started when the batch ended, it would pass while the event loop writes
        those answers, and the one request that came meanwhile would make a batch alone."""
        self.hold_until = self.loop.time() + self.batch_wait
        self._dispatch()
