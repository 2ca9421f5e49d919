"""The two guarantees `make demo` relies on to never leave a process behind or lose its ports:
a service started with `die_with_parent` goes when its parent dies, even by SIGKILL, and a port
whose last connection is in TIME_WAIT counts as free (servers bind with SO_REUSEADDR)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from hubship.services import free_port, port_is_free

PARENT = """
import sys, time
from hubship.services import Service
port = int(sys.argv[1])
service = Service("web", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                  url=f"http://127.0.0.1:{port}", die_with_parent=True)
service.start()
print(service.process.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited: only its parent's wait is missing


def test_a_service_dies_with_its_parent_even_when_the_parent_is_killed(tmp_path: Path) -> None:
    port = free_port()
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(port)], stdout=subprocess.PIPE,
                              text=True, cwd=tmp_path)
    try:
        child = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), "the service outlived its parent"
        assert port_is_free(port)
    finally:
        parent.kill()


def test_a_port_in_time_wait_is_free() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end of the connection is in TIME_WAIT
    client.recv(1)
    client.close()
    server.close()
    assert b":%04X " % port in _tcp_states(b"06"), "no TIME_WAIT socket on the port"
    assert port_is_free(port)


def _tcp_states(state: bytes) -> bytes:
    """/proc/net/tcp lines in `state` (06 = TIME_WAIT)."""
    lines = Path("/proc/net/tcp").read_bytes().splitlines()[1:]
    return b"\n".join(line for line in lines if line.split()[3] == state)


def test_port_is_free_is_false_while_something_listens() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert not port_is_free(server.getsockname()[1])




def test_a_started_service_used_as_a_context_runs_once_and_stops():
    from hubship.services import Service

    port = free_port()
    service = Service("web", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                              str(port)], url=f"http://127.0.0.1:{port}")
    with service.start(timeout=30) as same:
        first = service.process
        assert same is service and service.process is first  # no second process
        pid = first.pid
    assert first.poll() is not None and not _alive(pid)
