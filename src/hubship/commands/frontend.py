from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"
DEFAULT_DIST = Path("frontend/dist")


def register(app: typer.Typer) -> None:
    @app.command()
    def frontend(
        host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port to listen on")] = 5173,
        backend_url: Annotated[str | None, typer.Option(
            help="the backend that /api/... is forwarded to "
            f"[default: $BACKEND_URL, else {DEFAULT_BACKEND_URL}]",
        )] = None,
        dist: Annotated[Path, typer.Option(help="the built frontend, Vite's dist/")] = (
            DEFAULT_DIST
        ),
        build: Annotated[bool, typer.Option(
            help="build with npm first when dist/ is missing or older than the sources "
            "(needs package.json next to dist/)",
        )] = True,
    ) -> None:
        """Serve the web page, forwarding /api to the backend.

        The local twin of the Vercel rewrite.
        """
        import uvicorn

        from hubship.config import Settings
        from hubship.errors import HubshipError
        from hubship.frontend_server import create_frontend_app, ensure_built

        if build and (dist.parent / "package.json").is_file():
            dist = ensure_built(dist.parent)
        elif not (dist / "index.html").is_file():
            raise HubshipError(
                f"no built frontend in {dist}",
                hint="build it: cd frontend && npm ci && npm run build (or pass --dist)",
            )
        settings = Settings.load()
        backend = backend_url or settings.backend_url or DEFAULT_BACKEND_URL
        web_app = create_frontend_app(dist, backend, max_body_bytes=settings.max_body_bytes)
        typer.echo(f"frontend: http://{host}:{port}  (api -> {backend})")
        # no default Date/Server: forwarded answers keep the backend's, the app dates its own
        uvicorn.run(web_app, host=host, port=port, log_level="warning", server_header=False,
                    date_header=False)
