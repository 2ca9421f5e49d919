from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# Same values as hubship.config.LOCAL_HUB_PORT and hubship.hub.app's defaults; not
# imported, so that every `hubship` command starts without loading pydantic-settings or FastAPI.
LOCAL_HUB_PORT = 8900
DEFAULT_MAX_BODY_BYTES = 2 * 1024**3
DEFAULT_LFS_THRESHOLD_BYTES = 10 * 1000 * 1000
DEFAULT_LFS_CHUNK_BYTES = 1024**3


def _readable(size: int) -> str:
    """A byte count as help shows it (2 GiB, 10 MB)."""
    if size % 1024**3 == 0:
        return f"{size // 1024**3} GiB"
    return f"{size / 1000**2:g} MB"


def register(app: typer.Typer) -> None:
    @app.command()
    def hub(
        host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port")] = LOCAL_HUB_PORT,
        data_dir: Annotated[
            Path, typer.Option(help="where repos, commits and file contents are stored")
        ] = Path(".hubship/hub"),
        token: Annotated[str | None, typer.Option(
            envvar="HUBSHIP_HUB_TOKEN", show_default=False,
            help="require `Authorization: Bearer TOKEN` for writes and private repos "
                 "(also read from HUBSHIP_HUB_TOKEN)",
        )] = None,
        max_body_bytes: Annotated[
            int, typer.Option(min=1, help="largest request body accepted, in bytes",
                              show_default=_readable(DEFAULT_MAX_BODY_BYTES))
        ] = DEFAULT_MAX_BODY_BYTES,
        user: Annotated[str, typer.Option(
            help="the user the token belongs to (whoami), and the namespace of repo ids "
                 "given without one")] = "local",
        lfs_threshold_bytes: Annotated[int, typer.Option(
            min=0, help="files over this size (bytes) upload through LFS, as on huggingface.co",
            show_default=_readable(DEFAULT_LFS_THRESHOLD_BYTES))
        ] = DEFAULT_LFS_THRESHOLD_BYTES,
        lfs_chunk_bytes: Annotated[int, typer.Option(
            min=1024, help="LFS objects over this size (bytes) upload in parts of this size",
            show_default=_readable(DEFAULT_LFS_CHUNK_BYTES))
        ] = DEFAULT_LFS_CHUNK_BYTES,
        webhook: Annotated[list[str] | None, typer.Option(
            help="URL to POST a Hub webhook to on every repo update (repeatable)")] = None,
        webhook_secret: Annotated[str | None, typer.Option(
            envvar="HUBSHIP_HUB_WEBHOOK_SECRET", show_default=False,
            help="sent in X-Webhook-Secret with every webhook (also read from "
                 "HUBSHIP_HUB_WEBHOOK_SECRET)")] = None,
    ) -> None:
        """Run the embedded Hub: the local model registry.

        A Hugging Face Hub-compatible server (huggingface_hub talks to it as to
        huggingface.co).
        """
        import logging

        import uvicorn

        from hubship.hub import create_app

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        log = logging.getLogger("hubship.hub")
        from hubship.hub.guard import LOOPBACK_NAMES

        url = f"http://{host}:{port}"
        application = create_app(
            data_dir, token=token, max_body_bytes=max_body_bytes,
            loopback_only=host in LOOPBACK_NAMES, user=user,
            lfs_threshold_bytes=lfs_threshold_bytes, lfs_chunk_bytes=lfs_chunk_bytes,
            webhooks=[(target, webhook_secret) for target in webhook or []], public_url=url,
        )
        log.info("hub: %s (data in %s)", url, data_dir.resolve())
        if token is None:
            log.warning(
                "no --token given: the hub is OPEN, anyone who can reach %s can write to it", url
            )
        uvicorn.run(application, host=host, port=port, access_log=False, log_level="warning",
                    log_config=None)
