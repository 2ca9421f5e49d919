"""Inference workers: where the models run, never on the event loop.

Two kinds, one interface (`start`, `open`, `drop`, `run`, `stop`), chosen by
HUBSHIP_INFERENCE_WORKERS (`engine.worker_count`):

- `ProcessWorker` (N >= 1, the default): a `python -m hubship.serving.inference_process` child
  per worker, fed over its stdin/stdout pipes by the event loop (no thread in between). Each
  loads a release once, from the files the backend verified (it hashes each file's bytes
  again before unpickling them; the backend never unpickles, nor imports scikit-learn), and
  predicts in parallel with the HTTP side: pandas and scikit-learn hold the GIL for most of
  a call, so a thread would take turns with the event loop (bench/serving.py measures both).
  The processes start first thing in the lifespan, so their imports overlap the backend's
  Hub check and verification (bench/cold_start.py).
- `ThreadWorker` (N = 0): one thread of the backend process. No second copy of the models and
  no pipe; for one-core hosts and for tests that reach into the running model.

A process that dies fails its batch with `WorkerDied` (its requests answer 503) and calls
`on_exit`, which restarts it. One that fails while it starts (dies loading a release, or cannot
load it) is killed and fails its `start`, which the engine retries: never two restarts at once,
never a process left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import logging
import pickle
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hubship.serving.inference_process import HEADER, adopt_early, frame, spawn
from hubship.serving.runner import BatchDone, ModelRunner, Rows, run_jobs

log = logging.getLogger("hubship.serving")
STOP_SECONDS = 5.0
OpenMessage = tuple[Any, ...]  # ("open", key, {name: ModelToLoad}), see inference_process
Described = dict[str, ModelRunner] | None  # a release's models as a worker process loaded them


class WorkerDied(Exception):
    """The inference process ended while it held a batch or a release load."""


class ReleaseNotLoaded(Exception):
    """A worker could not unpickle a release (e.g. a package missing in its environment)."""


@dataclass(frozen=True)
class Batch:
    """Requests for one model of one release: one model call."""

    release: int
    name: str
    runner: ModelRunner
    jobs: list[Rows]


def _fast_sklearn() -> None:
    import sklearn

    sklearn.set_config(assume_finite=True)  # per thread; the request models refuse NaN and inf


class _PlainReplies(pickle.Unpickler):
    """Replies hold plain values and two classes of ours: a model's code runs only in the
    inference process, and nothing it sends back can name a class for the backend to run."""

    ALLOWED = frozenset({("hubship.serving.runner", "JobFailed"),
                         ("hubship.serving.runner", "ModelRunner")})

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"an inference process replied with {module}.{name}; "
                                         "replies hold plain values only")
        return super().find_class(module, name)


def read_reply(payload: bytes) -> Any:
    """An inference process's reply (see `inference_process`), unpickled without running
    anything but the allowed classes' constructors."""
    return _PlainReplies(io.BytesIO(payload)).load()


class ThreadWorker:
    kind = "thread"

    def __init__(self, index: int) -> None:
        self.index, self.alive = index, True
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"hubship-inference-{index}",
                                           initializer=_fast_sklearn)

    async def start(self, releases: Mapping[int, OpenMessage]) -> None:
        return None

    async def open(self, key: int, message: OpenMessage) -> Described:
        return None  # the runner travels with each batch

    def drop(self, key: int) -> None:
        return None

    async def run(self, batch: Batch) -> BatchDone:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, run_jobs, batch.runner, batch.jobs)

    async def stop(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class Child:
    """A started inference process, its pipes as asyncio streams (a `subprocess.Popen`, not
    an asyncio subprocess: it may have been started before the event loop, `start_early`)."""

    def __init__(self, popen: subprocess.Popen[bytes], stdin: asyncio.StreamWriter,
                 stdout: asyncio.StreamReader) -> None:
        self.popen, self.stdin, self.stdout = popen, stdin, stdout

    @classmethod
    async def attach(cls, popen: subprocess.Popen[bytes]) -> Child:
        loop = asyncio.get_running_loop()
        stdout = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdout), popen.stdout)
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), popen.stdin)
        return cls(popen, asyncio.StreamWriter(transport, protocol, None, loop), stdout)

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    async def wait(self) -> int:
        return await asyncio.to_thread(self.popen.wait)

    def kill(self) -> None:
        self.popen.kill()


class ProcessWorker:
    kind = "process"

    def __init__(self, index: int, on_exit: Callable[[ProcessWorker], None]) -> None:
        self.index, self.on_exit = index, on_exit
        self.alive = self.stopping = False
        self.process: Child | None = None
        self.pid: int | None = None
        self.loaded: set[int] = set()
        self.pending: dict[tuple[str, int], asyncio.Future[Any]] = {}
        self.ids = itertools.count()
        self.reader: asyncio.Task[None] | None = None

    async def start(self, releases: Mapping[int, OpenMessage]) -> None:
        """Start the process and load every release in `releases`, including any added while
        it loads; `alive` once it holds them all."""
        self.loaded, self.reader = set(), None
        self.process = await Child.attach(adopt_early() or spawn())
        try:
            try:
                ready = await self._read()
            except asyncio.IncompleteReadError:
                await self.process.wait()
                raise WorkerDied(f"inference process exited at start "
                                 f"({self.process.returncode}); see its error above") from None
            self.pid = ready[1]
            self.reader = asyncio.create_task(self._read_all())
            while missing := [key for key in releases if key not in self.loaded]:
                for key in missing:
                    if key in releases:
                        await self.open(key, releases[key])
        except BaseException:
            await self._discard()  # a child that did not start is never left running
            raise
        self.alive = True

    async def open(self, key: int, message: OpenMessage) -> Described:
        """Send `message` (the "open" of release `key`); the models as the process
        describes them."""
        future = self._expect(("open", key))
        await self._send(message)
        error, described = await future
        if error is not None:
            raise ReleaseNotLoaded(f"inference process {self.pid} could not load the "
                                   f"release: {error}")
        self.loaded.add(key)
        return described  # type: ignore[no-any-return]

    def drop(self, key: int) -> None:
        self.loaded.discard(key)
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ConnectionError, RuntimeError):  # it is ending anyway
                self._pipes()[0].write(frame(("drop", key)))

    async def run(self, batch: Batch) -> BatchDone:
        batch_id = next(self.ids)
        future = self._expect(("batch", batch_id))
        await self._send(("batch", batch_id, batch.release, batch.name, batch.jobs))
        done: BatchDone = await future
        return done

    def _expect(self, what: tuple[str, int]) -> asyncio.Future[Any]:
        if self.reader is None or self.reader.done():
            raise WorkerDied(f"inference process {self.pid} is not running")
        future = asyncio.get_running_loop().create_future()
        self.pending[what] = future
        return future

    def _pipes(self) -> tuple[asyncio.StreamWriter, asyncio.StreamReader]:
        """The started process's stdin and stdout (both pipes, see `start`)."""
        process = self.process
        if process is None:
            raise WorkerDied(f"inference process {self.pid} is not running")
        return process.stdin, process.stdout

    async def _send(self, message: Any) -> None:
        stdin, _ = self._pipes()
        try:
            stdin.write(frame(message))
            await stdin.drain()
        except (ConnectionError, BrokenPipeError):
            pass  # the reader sees the end and fails what is pending

    async def _read(self) -> Any:
        _, stdout = self._pipes()
        (size,) = HEADER.unpack(await stdout.readexactly(HEADER.size))
        return read_reply(await stdout.readexactly(size))

    async def _read_all(self) -> None:
        """Hand each reply to what waits on it, until the process ends. Only a process that
        had started calls `on_exit`: one that dies while `start` loads the releases fails
        that `start`, whose caller retries (a second restart would race the first)."""
        process = self.process
        assert process is not None
        try:
            while True:
                message = await self._read()
                if message[0] == "done":  # ("done", id, results, model seconds)
                    future = self.pending.pop(("batch", message[1]), None)
                    result = BatchDone(message[2], message[3])
                else:  # ("loaded", key, error, described)
                    future = self.pending.pop(("open", message[1]), None)
                    result = message[2:]
                if future is not None and not future.done():
                    future.set_result(result)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:  # a reply that cannot be read: the process is of no further use
            log.exception("inference process %s (pid %s) sent a reply that cannot be read; "
                          "stopping it", self.index, self.pid)
            process.kill()
        had_started, self.alive = self.alive, False
        code = await process.wait()
        died = WorkerDied(f"the inference process ended (exit code {code}) during this "
                          "request; retry it")
        for future in self.pending.values():
            if not future.done():
                future.set_exception(died)
        self.pending.clear()
        if had_started and not self.stopping:
            log.error("inference process %s (pid %s) exited with code %s; restarting it",
                      self.index, self.pid, code)
            self.on_exit(self)

    async def _discard(self) -> None:
        """Kill a process that failed to start (it may be loading a release) and wait for it
        and its reader to end."""
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            process.kill()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)
        else:
            await process.wait()

    async def stop(self) -> None:
        self.stopping, self.alive = True, False
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.stdin.close()  # the child's read ends: it exits
        try:
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)
