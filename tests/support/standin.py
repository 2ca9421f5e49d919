"""A real HTTP server on a free loopback port that records every request and answers with a
function the test supplies: the stand-in for Railway, Render or the backend."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hubship.deploy import RetryPolicy
from hubship.serving.answers import ReleaseSource, VersionInfo

FAST_RETRY = RetryPolicy(attempts=3, backoff=0.01)


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret leaked into: {text}"


def version_answer(sha: str | None, *, tag: str | None = "v3", source: ReleaseSource = "hub",
                   revision: str = "main", replica: str = "web-1") -> dict[str, Any]:
    """A whole `/version` answer, as a backend sends it (built with the backend's model)."""
    number = tag[1:] if tag else ""
    return VersionInfo(
        sha=sha, tag=tag, release=int(number) if number.isdigit() else None, source=source,
        loaded_at="2026-11-20T10:00:00Z", revision=revision, repo_id="team/models",
        commit_url=None, created_at="2026-11-20T09:59:00Z", source_commit=None, verified=True,
        replica=replica,
    ).model_dump(mode="json")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    delay: float = 0.0  # seconds to wait before answering (to test timeouts)


Responder = Callable[[Request], Reply]


@dataclass
class StandIn:
    url: str
    requests: list[Request] = field(default_factory=list)
    responder: Responder = lambda request: Reply(404, {"detail": "no responder"})  # noqa: E731


def start_standin() -> tuple[StandIn, ThreadingHTTPServer]:
    state = StandIn(url="")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            request = Request(
                self.command, parts.path, parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length),
            )
            state.requests.append(request)
            reply = state.responder(request)
            if reply.delay:
                time.sleep(reply.delay)
            payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body)
            payload = payload.encode() if isinstance(payload, str) else payload
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                pass

        do_GET = do_POST = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return state, server
