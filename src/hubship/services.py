"""Start, wait for and stop the local services (hub, backend, frontend) as subprocesses.

Used by `make demo`, `hubship run` (to start the embedded hub when it is not running) and
the tests, which start every service on a free loopback port and stop it afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from hubship.errors import HubshipError

if TYPE_CHECKING:
    from hubship.config import Settings

PR_SET_PDEATHSIG = 1  # <sys/prctl.h>


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on `port` now. Binds as uvicorn does (SO_REUSEADDR), so
    a port whose old connections are only in TIME_WAIT (a minute after a service stopped)
    counts as free."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def is_up(url: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code < 500
    except httpx.HTTPError:
        return False


class Service:
    """A child process serving HTTP at `url`; `health_url` answers once it is ready."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        url: str,
        health_url: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        log_path: Path | None = None,
        die_with_parent: bool = False,
    ) -> None:
        self.name, self.argv, self.url = name, list(argv), url
        self.health_url = health_url or url
        self.env = {**os.environ, **(env or {})}
        self.cwd, self.log_path = cwd, log_path
        self.die_with_parent = die_with_parent
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Service:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        with _stop_signals_held(self.die_with_parent):  # never a process without its Service
            self.process = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with(os.getpid()) if self.die_with_parent else None,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HubshipError(
                    f"{self.name} exited with code {self.process.returncode} while starting",
                    hint=f"see its log: {self.log_path}" if self.log_path else None,
                )
            if is_up(self.health_url, timeout=0.5):
                return self
            time.sleep(0.05)
        self.stop()
        raise HubshipError(
            f"{self.name} did not answer at {self.health_url} within {timeout:.0f} s",
            hint=f"see its log: {self.log_path}" if self.log_path else None,
        )

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def kill(self) -> None:
        """Stop at once, as a crash would (SIGKILL, no cleanup)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Service:
        """Start it, unless it already runs (`with service.start(timeout=...)` starts it once)."""
        if self.process is not None and self.process.poll() is None:
            return self
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _stop_signals_held(hold: bool) -> Iterator[None]:
    """Hold SIGINT/SIGTERM (delivered when the block ends) so a Ctrl-C cannot fall between a
    child's fork and its Popen being kept; the child unblocks them in `_die_with`."""
    if not hold:
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _die_with(parent: int) -> Callable[[], None]:
    """A child's first act: unblock the stop signals, and (Linux) ask the kernel for a SIGTERM
    when `parent` dies, however it dies (even SIGKILL), so no service outlives its demo."""
    libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None

    def setup() -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        if libc is not None:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent:  # the parent died before the request: go now
                os.kill(os.getpid(), signal.SIGTERM)

    return setup


def hub_service(
    data_dir: Path, *, port: int | None = None, token: str | None = None,
    log_path: Path | None = None, die_with_parent: bool = False,
) -> Service:
    """The embedded hub (`hubship hub`) as a Service, not yet started."""
    port = port or free_port()
    argv = [sys.executable, "-m", "hubship", "hub", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(data_dir)]
    url = f"http://127.0.0.1:{port}"
    return Service(
        "hub", argv, url=url, health_url=f"{url}/api/health", log_path=log_path,
        env={"HUBSHIP_HUB_TOKEN": token} if token else None,  # not in argv: `ps` shows argv
        die_with_parent=die_with_parent,
    )


def ensure_local_hub(data_dir: Path, *, port: int, log_path: Path | None = None) -> str:
    """Return the embedded hub's URL, starting it in the background if nothing answers there.

    The hub outlives the command that started it (the backend and later steps read from it);
    `hubship hub` in a terminal, or `make demo`, are the ways to run it in the foreground.
    """
    url = f"http://127.0.0.1:{port}"
    if is_up(f"{url}/api/health"):
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    service = hub_service(data_dir, port=port, log_path=log_path or data_dir / "hub.log")
    service.start()
    return url


def start_local_hub_if_used(settings: Settings, console: Any = None) -> None:
    """Start the embedded hub when the settings name it (no HF_ENDPOINT, token or repo id)
    and nothing answers on its port; the commands that publish or list releases call this."""
    if not settings.uses_local_hub:
        return
    from hubship.config import LOCAL_HUB_PORT
    from hubship.console import say

    url = ensure_local_hub(settings.local_hub_dir, port=LOCAL_HUB_PORT)
    say(console, f"using the embedded local hub at {url}")
