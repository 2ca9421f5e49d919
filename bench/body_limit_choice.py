"""Why the backend keeps its own body limit (`serving.limits.BodyLimit`) over FastAPI's.

    .venv/bin/python bench/body_limit_choice.py [--rounds 30]

The same small FastAPI app (a route reading its body, one that does not) is built twice:
with our `BodyLimit`, and with `FastAPI(max_body_size=...)` plus an exception handler giving the
413 our message. Each gets, as raw ASGI calls in this process: a declared Content-Length over the
limit, a chunked body over it, a non-numeric Content-Length (the answer, chunks pulled, whether the
route ran), and a 200 MiB chunked body against a 1 MB limit (64 KiB chunks pulled, peak memory).
Then the CPU per request of the limit layers alone around a trivial app (none, ours, FastAPI's
app- and route-level layers), min and median of `--rounds` rounds of 2,000 requests. Nothing is
saved: the figures back the choice written in `serving/limits.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import tracemalloc
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi._body_limit import AppBodyLimitMiddleware, wrap_app_with_body_limit
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubship.serving.limits import BodyLimit

LIMIT = 2000
MESSAGE = f"request body larger than {LIMIT} bytes; send fewer records per request"
RAN: list[str] = []  # the routes that ran to their end


def build(kind: str, limit: int = LIMIT) -> FastAPI:
    app = FastAPI(max_body_size=limit) if kind == "fastapi" else FastAPI()

    @app.post("/read")
    async def read(request: Request) -> dict[str, int]:
        body = await request.body()
        RAN.append("read")
        return {"bytes": len(body)}

    @app.post("/ignore")
    async def ignore() -> dict[str, bool]:
        RAN.append("ignore")
        return {"ok": True}

    if kind == "fastapi":
        async def too_large(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, HTTPException)
            if exc.status_code == 413:
                return JSONResponse({"detail": MESSAGE}, 413)
            return await http_exception_handler(request, exc)
        app.add_exception_handler(HTTPException, too_large)
    else:
        app.add_middleware(BodyLimit, max_bytes=limit)
    return app


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80), "state": {}}


async def call(app: ASGIApp, path: str, headers: list[tuple[bytes, bytes]],
               chunk: Callable[[int], tuple[bytes, bool]]) -> tuple[int, bytes, int]:
    pulled, status, sent = 0, 0, b""

    async def receive() -> Message:
        nonlocal pulled
        body, more = chunk(pulled)
        pulled += 1
        return {"type": "http.request", "body": body, "more_body": more}

    async def send(message: Message) -> None:
        nonlocal status, sent
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            sent += message.get("body", b"")

    await app(scope("POST", path, headers), receive, send)
    return status, sent[:60], pulled


async def behaviour() -> None:
    over = b"x" * (LIMIT + 1)
    cases = {
        "declared over, route reads": ("/read", [(b"content-length", b"%d" % len(over))],
                                       lambda i: (over, False)),
        "declared over, route ignores": ("/ignore", [(b"content-length", b"%d" % len(over))],
                                         lambda i: (over, False)),
        "chunked over": ("/read", [], lambda i: (b"x" * 1500, i < 1)),
        "non-numeric Content-Length": ("/read", [(b"content-length", b"abc")],
                                       lambda i: (b"xx", False)),
    }
    chunk, total = b"x" * 65536, 200 * 1024 * 1024 // 65536
    for kind in ("ours", "fastapi"):
        for what, (path, headers, body) in cases.items():
            RAN.clear()
            answer = await call(build(kind), path, headers, body)
            print(f"{kind:8s} {what:30s} {answer} route ran: {bool(RAN)}")
        tracemalloc.start()
        status, _, pulled = await call(build(kind, 1_000_000), "/read", [],
                                       lambda i: (chunk, i < total - 1))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{kind:8s} {'200 MiB chunked':30s} {status}, {pulled} of {total} chunks pulled, "
              f"peak {peak / 1e6:.2f} MB traced")


async def trivial(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["method"] == "POST":
        await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def layer_cpu(rounds: int) -> None:
    stacks: dict[str, ASGIApp] = {
        "none": trivial, "ours": BodyLimit(trivial, max_bytes=LIMIT),
        # what FastAPI(max_body_size=...) adds: one at the app, one around each included route
        "fastapi": AppBodyLimitMiddleware(wrap_app_with_body_limit(trivial, LIMIT), LIMIT)}
    head = [(b"host", b"a"), (b"user-agent", b"python-httpx/0.28"), (b"accept", b"*/*")]
    cases = {"GET": ("GET", head),
             "POST 60 B, Content-Length": ("POST", head + [(b"content-length", b"60")]),
             "POST 60 B, chunked": ("POST", head + [(b"transfer-encoding", b"chunked")])}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * 60, "more_body": False}

    async def send(message: Message) -> None:
        pass

    for case, (method, headers) in cases.items():
        seen: dict[str, list[float]] = {kind: [] for kind in stacks}
        for _ in range(rounds):
            for kind, app in stacks.items():
                started = time.process_time()
                for _ in range(2000):
                    await app({"type": "http", "method": method, "path": "/x",
                               "headers": headers}, receive, send)
                seen[kind].append((time.process_time() - started) / 2000 * 1e6)
        print(f"{case:26s} " + " | ".join(
            f"{kind} min {min(us):5.2f} median {statistics.median(us):5.2f} us"
            for kind, us in seen.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(behaviour())
    asyncio.run(layer_cpu(args.rounds))


if __name__ == "__main__":
    main()
