"""The hub's peak memory under one anonymous chunked body per write route (issue 10).

    .venv/bin/python bench/hub_body_limits.py [--mib 200] [--src OTHER/src]

For each route, a fresh `hubship hub` with a token (so the request is anonymous and must be
refused; `--open`: without one, so only the body limits bound it) receives a chunked body of
`--mib` MiB with no Content-Length; the hub's peak RSS (VmHWM in /proc) is read before and
after, with how long the hub took to answer. `--src`
runs the hub from another checkout's `src/` (e.g. the main branch) to compare before/after.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from hubship.services import free_port

ROUTES = [
    ("POST", "/api/repos/create"),
    ("POST", "/api/models/team/models/preupload/main"),
    ("POST", "/api/models/team/models/commit/main"),
    ("POST", "/api/models/team/models/tag/main"),
    ("POST", "/api/models/team/models/branch/dev"),
    ("POST", "/api/validate-yaml"),
]
TOKEN = "bench-token"


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def send_chunked(port: int, method: str, path: str, mib: int) -> tuple[int, float]:
    """Send `mib` MiB chunked (stopping if the hub answers first); status and seconds."""
    chunk = b"x" * (1024 * 1024)
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=600) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     .encode())
        try:
            first = b'{"name": "'
            sock.sendall(b"%x\r\n%s\r\n" % (len(first), first))
            for _ in range(mib):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the hub answered and closed before the end: what a guard should do
        answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1]), time.perf_counter() - started


def one_route(method: str, path: str, mib: int, src: Path | None, *, open_hub: bool) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "HUBSHIP_HUB_TOKEN"}
    if not open_hub:
        env["HUBSHIP_HUB_TOKEN"] = TOKEN
    if src:
        env["PYTHONPATH"] = str(src)
    with tempfile.TemporaryDirectory() as data:
        hub = subprocess.Popen([sys.executable, "-m", "hubship", "hub", "--port", str(port),
                                "--data-dir", data], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            while True:
                try:
                    if httpx.get(f"{url}/api/health", timeout=0.5).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            auth = {"Authorization": f"Bearer {TOKEN}"}
            httpx.post(f"{url}/api/repos/create", json={"organization": "team",
                                                        "name": "models"}, headers=auth)
            before = peak_rss_mib(hub.pid)
            status, seconds = send_chunked(port, method, path, mib)
            time.sleep(0.5)
            after = peak_rss_mib(hub.pid)
            print(f"{method} {path:45} -> {status}  peak RSS {before:6.1f} -> {after:6.1f} MiB"
                  f"  ({seconds:5.2f} s)")
        finally:
            hub.terminate()
            hub.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--src", type=Path, help="run the hub from this src/ folder")
    parser.add_argument("--open", action="store_true",
                        help="a hub without a token (the body limits alone bound the body)")
    args = parser.parse_args()
    print(f"hub from {args.src or 'this checkout'}, {'no token' if args.open else 'a token'}; "
          f"{args.mib} MiB anonymous chunked body")
    for method, path in ROUTES:
        one_route(method, path, args.mib, args.src, open_hub=args.open)


if __name__ == "__main__":
    main()
