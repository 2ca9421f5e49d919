from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="address to listen on (0.0.0.0 in a container)"),
        port: int = typer.Option(8000, envvar="PORT", help="port to listen on"),
        log_level: str = typer.Option("info", help="uvicorn's log level (warning: no access log)"),
    ) -> None:
        """Run the backend (the release MODEL_REVISION names).

        One uvicorn worker: `hubship.serving.app:create_app`, the app backend/main.py
        also serves.
        """
        import uvicorn

        from hubship.serving.inference_process import start_early

        start_early()  # as backend/main.py: their imports overlap the app's
        uvicorn.run("hubship.serving.app:create_app", factory=True, host=host, port=port,
                    proxy_headers=True, log_level=log_level)
