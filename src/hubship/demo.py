"""`make demo`: the whole loop on one machine, no account needed.

Starts the embedded hub, trains and publishes, starts a backend and the frontend, runs the
loop's deploy and verify against that backend (`DEPLOY_TARGET=webhook`: a hot reload, no
restart), prints one line per service and keeps them up until Ctrl-C, which stops everything
it started. State lives in `$HUBSHIP_HOME` (default `.hubship/`), so a second run reuses it.

No service outlives the demo: a Ctrl-C or SIGTERM stops them all, further ones while it stops
are counted and ignored, and each service asks the kernel for a SIGTERM when the demo dies
(even by SIGKILL). The usual ports are reused as soon as nothing listens on them.

While the demo runs, every command in another terminal (`run`, `releases`, `rollback`,
`deploy`, `verify`) picks up its settings from `$HUBSHIP_HOME/demo.env` and works on the same
hub and backend. The demo runs in the project folder (its `models/train.py` and `frontend/`);
the backend is the package's app, so an installed wheel runs it too.

Releases are signed and verified as in production: the demo makes a key pair once
(`$HUBSHIP_HOME/signing/`, kept with the hub data whose releases it signed); the loop signs
with the private key and the backend verifies with the public one.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

from hubship.config import LOCAL_HUB_PORT, Settings
from hubship.errors import HubshipError
from hubship.services import Service, free_port, hub_service, is_up, port_is_free

BACKEND_PORT = 8000
FRONTEND_PORT = 5173
DEMO_ENV_FILE = "demo.env"


def _port(preferred: int) -> int:
    """The usual port when it is free, else any free one."""
    return preferred if port_is_free(preferred) else free_port()


def demo_env_path(settings: Settings) -> Path:
    return settings.hubship_home / DEMO_ENV_FILE


def load_demo_env(settings: Settings, console: Console) -> Settings:
    """Settings aimed at a running demo, when nothing else is configured."""
    path = demo_env_path(settings)
    configured = settings.hf_endpoint or settings.hf_token or settings.backend_url
    if configured or not path.is_file():
        return settings
    demo = Settings.load(_env_file=path)  # pydantic-settings reads it; the environment wins
    if not demo.backend_url or not is_up(f"{demo.backend_url}/health", timeout=0.5):
        return settings
    console.print(f"using the running demo's hub and backend (settings from {path})",
                  markup=False)
    return demo


def command_settings(console: Console | None = None, /, **overrides: object) -> Settings:
    """The settings of a command run by hand: the environment, with `overrides` (its options;
    None = not given), or those of the running demo when nothing points elsewhere."""
    settings = Settings.load(**{k: v for k, v in overrides.items() if v is not None})
    return load_demo_env(settings, console or Console(stderr=True))


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from the first byte (it holds ADMIN_TOKEN and
    the hub's HF_TOKEN)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _demo_keys(home: Path, console: Console) -> tuple[Path, Path]:
    """The demo's key pair (private, public), made on the first run."""
    from hubship.signing import generate, write_key_pair

    private = home / "signing" / "demo-signing.pem"
    if not private.is_file():
        write_key_pair(private, generate())
        console.print(f"made a signing key pair in {private.parent}", markup=False)
    return private, private.with_suffix(".pub")


class _StopSignals:
    """SIGINT/SIGTERM handler: the first signal interrupts the demo (KeyboardInterrupt), the
    ones after it are only counted, so a second Ctrl-C never cuts the stopping short."""

    def __init__(self) -> None:
        self.received = 0

    def __call__(self, *_: object) -> None:
        self.received += 1
        if self.received == 1:
            raise KeyboardInterrupt


def run_demo(settings: Settings, *, console: Console | None = None) -> None:
    console = console or Console()
    home = settings.hubship_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    started: list[Service] = []  # each service is listed before it starts: a signal never
    # falls between its process and this list
    # Ctrl-C or a SIGTERM, at any moment (even while training), stops everything started so
    # far. Installed explicitly: a shell starts background jobs with SIGINT ignored.
    stop_signals = _StopSignals()
    signal.signal(signal.SIGINT, stop_signals)
    signal.signal(signal.SIGTERM, stop_signals)
    try:
        hub_port = _port(LOCAL_HUB_PORT)
        # the demo's hub has a token of its own, so no web page can write to it; the
        # publisher and the backend get it through HF_TOKEN, `hubship run` through demo.env
        hub_token = secrets.token_urlsafe(32)
        hub = hub_service(home / "hub", port=hub_port, token=hub_token,
                          log_path=home / "hub.log", die_with_parent=True)
        console.print(f"starting the local hub on {hub.url} (data in {home / 'hub'})",
                      markup=False)
        started.append(hub)
        hub.start()

        admin_token = secrets.token_urlsafe(24)
        signing_key, verify_key = _demo_keys(home, console)
        backend_port = _port(BACKEND_PORT)
        backend_url = f"http://127.0.0.1:{backend_port}"
        loop_env = {
            "HF_ENDPOINT": hub.url, "HF_TOKEN": hub_token,
            "HF_REPO_ID": settings.repo_id if settings.hf_repo_id else "local/models",
            "HUBSHIP_HOME": str(home), "ADMIN_TOKEN": admin_token,
            "BACKEND_URL": backend_url, "DEPLOY_TARGET": "webhook",
            "HUBSHIP_SIGNING_KEY": str(signing_key),
        }
        loop_settings = Settings.load(**{k.lower(): v for k, v in loop_env.items()},
                                      assets_dir=settings.assets_dir,
                                      train_command=settings.train_command)

        console.print("\n[bold]start the backend and the frontend[/]")
        backend = Service(
            "backend", [sys.executable, "-m", "hubship", "serve", "--host", "127.0.0.1",
                        "--port", str(backend_port), "--log-level", "warning"],
            url=backend_url, health_url=f"{backend_url}/health",
            env={**loop_env, "HUBSHIP_SIGNING_KEY": "", "HUBSHIP_VERIFY_KEY": str(verify_key),
                 "HF_HUB_DISABLE_TELEMETRY": "1"}, log_path=home / "backend.log",
            die_with_parent=True,
        )
        started.append(backend)
        backend.start(timeout=120)
        frontend_url = _start_frontend(backend_url, home, started, console)
        _write_private(demo_env_path(settings),
                       "".join(f"{k}={v}\n" for k, v in loop_env.items()))

        console.print("\n[bold]the loop: train, gate, publish, deploy (hot reload), verify[/]")
        from hubship.pipeline import run_pipeline

        summary = run_pipeline(loop_settings, console=console)
        if summary.error is not None:
            raise summary.error

        console.print()
        console.print(f"hub: {hub.url}")
        console.print(f"backend: {backend_url}")
        console.print(f"frontend: {frontend_url}" if frontend_url else
                      "frontend: not started (see above)")
        console.print("\nchange models/train.py and run `.venv/bin/hubship run` in another "
                      "terminal to ship a new release (`hubship releases`, `hubship rollback "
                      "v1 --deploy` work on this demo too); Ctrl-C stops everything.")
        while True:
            time.sleep(0.5)
            for service in started:
                if service.process is not None and service.process.poll() is not None:
                    raise HubshipError(f"{service.name} stopped unexpectedly",
                                       hint=f"see its log in {home}")
    except KeyboardInterrupt:
        console.print("\nstopping (a second Ctrl-C changes nothing: every service is stopped)")
    finally:
        stop_signals.received += 1  # from here on, a signal only counts
        for service in reversed(started):
            service.stop()
        demo_env_path(settings).unlink(missing_ok=True)
        if started:
            console.print("stopped: " + ", ".join(s.name for s in reversed(started)))


def _start_frontend(backend_url: str, home: Path, started: list[Service],
                    console: Console) -> str | None:
    try:
        from hubship.frontend_server import ensure_built
    except ImportError:
        return None
    try:
        dist = ensure_built(Path.cwd() / "frontend")
    except HubshipError as exc:
        console.print(Text.assemble(("frontend not built: ", "yellow"), str(exc)))
        return None
    port = _port(FRONTEND_PORT)
    url = f"http://127.0.0.1:{port}"
    frontend = Service(
        "frontend", [sys.executable, "-m", "hubship", "frontend", "--host", "127.0.0.1",
                     "--port", str(port), "--backend-url", backend_url, "--dist", str(dist)],
        url=url, log_path=home / "frontend.log", die_with_parent=True,
    )
    started.append(frontend)
    frontend.start()
    return url
