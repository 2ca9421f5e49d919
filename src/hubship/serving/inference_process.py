"""An inference process: `python -m hubship.serving.inference_process`, started by the backend.

It talks to its backend over stdin/stdout, one message at a time, each a 4-byte little-endian
length and a pickle (a private pipe between two processes of the same install: the backend
already verified what it sends). Messages in:

  ("load", key, blob)          blob pickles {model name: ModelRunner} of one release
  ("drop", key)                that release has no request left; free it
  ("batch", id, key, name, jobs)   predict: jobs is one list of row tuples per request

and out: ("ready", pid), ("loaded", key, error or None), ("done", id, results). It imports
only what predicting needs (numpy, pandas, scikit-learn through the pickles, orjson), so it
starts in a fraction of the backend's time. Anything printed goes to stderr: stdout is the pipe.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from typing import Any, BinaryIO

HEADER = struct.Struct("<I")


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
    import sklearn

    from hubship.serving.runner import run_jobs

    sklearn.set_config(assume_finite=True)  # the request models already refuse NaN and inf
    releases: dict[int, dict[str, Any]] = {}

    def send(message: Any) -> None:
        outbox.write(frame(message))
        outbox.flush()

    send(("ready", os.getpid()))
    while (message := read_message(inbox)) is not None:
        kind = message[0]
        if kind == "batch":
            _, batch_id, key, name, jobs = message
            send(("done", batch_id, run_jobs(releases[key][name], jobs)))
        elif kind == "load":
            _, key, blob = message
            try:
                releases[key] = pickle.loads(blob)
            except Exception as exc:  # e.g. a package the pickle needs is missing here
                send(("loaded", key, f"{type(exc).__name__}: {exc}"))
            else:
                send(("loaded", key, None))
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
    serve(sys.stdin.buffer, outbox)


if __name__ == "__main__":
    main()
