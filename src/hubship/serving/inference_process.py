"""An inference process: `python -m hubship.serving.inference_process`, started by the backend.

It talks to its backend over stdin/stdout, one message at a time, each a 4-byte little-endian
length and a pickle (a private pipe between two processes of the same install: the backend
already verified what it sends). Messages in:

  ("open", key, models)        models: {name: ModelToLoad} of one release the backend checked
                               (signature, sha256, versions); each file's bytes are hashed
                               again here and unpickled only if they match
  ("drop", key)                that release has no request left; free it
  ("batch", id, key, name, jobs)   predict: jobs is one list of row tuples per request

and out: ("ready", pid), ("loaded", key, error or None, {name: ModelRunner.describe()}),
("done", id, results, model CPU seconds). It imports only what predicting needs (numpy,
pandas, scikit-learn, joblib, orjson), never FastAPI, pydantic or the Hub client, and it imports
them as soon as it starts, while the backend asks the Hub and verifies the release: the backend
itself never imports pandas or scikit-learn. Anything printed goes to stderr: stdout is the pipe.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import signal
import struct
import subprocess
import sys
from typing import Any, BinaryIO, NamedTuple

from hubship.model_files import ModelFile

HEADER = struct.Struct("<I")


class ModelToLoad(NamedTuple):
    """A model of a checked release: its file, and what its answers need from the manifest."""

    file: ModelFile
    task: str
    unit: str | None
    classes: list[Any] | None  # the manifest's, for a classifier that names none itself


def open_models(models: dict[str, ModelToLoad]) -> dict[str, Any]:
    """{name: ModelRunner} of every model, each file hashed before it is unpickled."""
    from hubship.model_files import load_checked
    from hubship.serving.runner import ModelRunner

    return {name: ModelRunner.build(name, model.task, load_checked(model.file, name),
                                    unit=model.unit, classes=model.classes)
            for name, model in models.items()}


def spawn() -> subprocess.Popen[bytes]:
    """A new inference process, its stdin and stdout pipes to this one (stderr shared)."""
    return subprocess.Popen([sys.executable, "-m", "hubship.serving.inference_process"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


_early: list[subprocess.Popen[bytes]] = []
_early_parent: list[int] = []  # the pid that started them: a forked copy must not adopt them


def start_early() -> None:
    """Start the inference processes now, before the backend imports its web stack (the
    backend's entry point calls this first): their own imports (pandas, scikit-learn: most of
    a cold start) then run beside the backend's, and the first `ProcessWorker.start`s adopt
    them. How many: HUBSHIP_INFERENCE_WORKERS, read here from the environment as Settings
    reads it (none when it says 0 or is not valid; Settings then says why). A process no
    worker adopted is killed when the backend exits (e.g. on a configuration error)."""
    from hubship.serving.engine import worker_count

    setting = next((value for name, value in os.environ.items()
                    if name.lower() == "hubship_inference_workers" and value), "1")
    try:
        count = worker_count(setting)
    except ValueError:
        return
    _early_parent[:] = [os.getpid()]
    _early.extend(spawn() for _ in range(count))
    atexit.register(_kill_unadopted)


def _kill_unadopted() -> None:
    if _early_parent == [os.getpid()]:
        for process in _early:
            process.kill()


def adopt_early() -> subprocess.Popen[bytes] | None:
    """A process `start_early` started and no worker has taken yet, if any (never in a
    process forked after the start, e.g. a server that imports the app before forking)."""
    if not _early or _early_parent != [os.getpid()]:
        return None
    return _early.pop(0)


def read_message(stream: BinaryIO) -> Any:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None  # the backend closed the pipe: stop
    (size,) = HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def frame(message: Any) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


def serve(inbox: BinaryIO, outbox: BinaryIO) -> None:
    import joblib  # noqa: F401  # what every release needs, imported before it is asked for
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import sklearn

    from hubship.serving.runner import BatchDone, JobFailed, run_jobs

    sklearn.set_config(assume_finite=True)  # the request models already refuse NaN and inf
    releases: dict[int, dict[str, Any]] = {}

    def send(message: Any) -> None:
        outbox.write(frame(message))
        outbox.flush()

    send(("ready", os.getpid()))
    while (message := read_message(inbox)) is not None:
        kind = message[0]
        if kind == "batch":  # answered whatever happens: this process must outlive a batch
            _, batch_id, key, name, jobs = message
            runner = releases.get(key, {}).get(name)
            if runner is None:  # the backend dropped the release before the batch came
                done = BatchDone([JobFailed(503, "the release this request was read for is no "
                                                 "longer served; retry it")] * len(jobs), 0.0)
            else:
                try:
                    done = run_jobs(runner, jobs)
                except Exception as exc:  # e.g. an answer that cannot be written as JSON
                    done = BatchDone([JobFailed(500, f"model {name!r} failed: "
                                                     f"{type(exc).__name__}: {exc}")] * len(jobs),
                                     0.0)
            send(("done", batch_id, done.results, done.model_seconds))
        elif kind == "open":
            _, key, models = message
            try:
                releases[key] = open_models(models)
            except Exception as exc:  # e.g. a package the pickle needs is missing here
                send(("loaded", key, f"{type(exc).__name__}: {exc}", None))
            else:
                send(("loaded", key, None, {name: runner.describe()
                                            for name, runner in releases[key].items()}))
        elif kind == "drop":
            releases.pop(message[1], None)


def main() -> None:
    # The backend stops this process by closing its stdin (and kills it if it must). A SIGINT
    # or SIGTERM sent to the backend's whole process group (a Ctrl-C, a service manager, the
    # demo stopping) would kill it first and make the backend log a worker crash during an
    # orderly shutdown; without a backend, stdin ends and so does this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    outbox = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the pipe
    with contextlib.suppress(BrokenPipeError):  # the backend is gone: nobody to answer
        serve(sys.stdin.buffer, outbox)


if __name__ == "__main__":
    main()
