from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# Same values as hubship.config.LOCAL_HUB_PORT and hubship.hub.app.DEFAULT_MAX_BODY_BYTES; not
# imported, so that every `hubship` command starts without loading pydantic-settings or FastAPI.
LOCAL_HUB_PORT = 8900
DEFAULT_MAX_BODY_BYTES = 2 * 1024**3


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
            int, typer.Option(min=1, help="largest request body accepted, in bytes")
        ] = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        """Run the local Hugging Face Hub-compatible server (the embedded model registry)."""
        import logging

        import uvicorn

        from hubship.hub import create_app

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        log = logging.getLogger("hubship.hub")
        from hubship.hub.guard import LOOPBACK_NAMES

        application = create_app(data_dir, token=token, max_body_bytes=max_body_bytes,
                                 loopback_only=host in LOOPBACK_NAMES)
        url = f"http://{host}:{port}"
        log.info("hub: %s (data in %s)", url, data_dir.resolve())
        if token is None:
            log.warning(
                "no --token given: the hub is OPEN, anyone who can reach %s can write to it", url
            )
        uvicorn.run(application, host=host, port=port, access_log=False, log_level="warning",
                    log_config=None)
