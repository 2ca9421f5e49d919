"""`hubship deploy` and `hubship verify`: start a deploy, then prove production serves it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

SHA_HELP = "the release's Hub commit sha (what `publish` printed)"


class Target(StrEnum):
    railway = "railway"
    render = "render"
    webhook = "webhook"
    none = "none"


def _release_sha(sha: str | None) -> str:
    from hubship.errors import ConfigError

    if not sha:
        raise ConfigError(
            "no release sha given",
            hint="pass --sha <hub commit sha> or set HUBSHIP_RELEASE_SHA (in the workflow, "
            "the publish job's `sha` output)",
        )
    return sha.strip()


def register(app: typer.Typer) -> None:
    @app.command()
    def deploy(
        sha: Annotated[str | None, typer.Option(
            "--sha", envvar="HUBSHIP_RELEASE_SHA", help=SHA_HELP, show_default=False)] = None,
        target: Annotated[Target | None, typer.Option(
            "--target", help="override DEPLOY_TARGET", show_default=False)] = None,
        commit_sha: Annotated[str | None, typer.Option(
            "--commit-sha", envvar="HUBSHIP_DEPLOY_COMMIT",
            help="the code's git commit, for Railway to deploy exactly that commit "
            "(else it redeploys the latest build)", show_default=False)] = None,
    ) -> None:
        """Start a deploy of a release on DEPLOY_TARGET (railway, render, webhook or none)."""
        from rich.console import Console

        from hubship.config import Settings
        from hubship.deploy import trigger

        settings = Settings()
        if target is not None:
            settings = settings.model_copy(update={"deploy_target": target.value})
        result = trigger(settings, sha=_release_sha(sha), commit_sha=commit_sha or None)
        mark = "[green]deploy started:[/]" if result.triggered else "[yellow]no deploy:[/]"
        Console().print(f"{mark} {result.detail}", highlight=False)

    @app.command()
    def verify(
        sha: Annotated[str | None, typer.Option(
            "--sha", envvar="HUBSHIP_RELEASE_SHA", help=SHA_HELP, show_default=False)] = None,
        backend_url: Annotated[str | None, typer.Option(
            "--backend-url", help="the backend to ask; default BACKEND_URL",
            show_default=False)] = None,
        timeout: Annotated[float | None, typer.Option(
            "--timeout", min=0.1, help="seconds to wait; default HUBSHIP_VERIFY_TIMEOUT (300)",
            show_default=False)] = None,
        interval: Annotated[float, typer.Option(
            "--interval", min=0.05, help="seconds between requests")] = 2.0,
        replicas: Annotated[int, typer.Option(
            "--replicas", min=1, envvar="HUBSHIP_VERIFY_REPLICAS",
            help="matching answers needed in a row (several replicas behind a load "
            "balancer; best effort)")] = 1,
    ) -> None:
        """Wait until the backend's /version serves the release; fail with what it serves."""
        from rich.console import Console
        from rich.table import Table

        from hubship.config import Settings
        from hubship.deploy import verify_live
        from hubship.deploy.result import required

        settings = Settings()
        release = _release_sha(sha)
        url = backend_url or required(settings.backend_url, "BACKEND_URL",
                                      needed_by="`hubship verify`")
        answer = verify_live(url, release, timeout=timeout or settings.verify_timeout,
                             interval=interval, replicas=replicas)
        table = Table(title=f"{url} serves", show_header=False)
        for key in ("sha", "tag", "release", "source", "loaded_at", "repo_id", "commit_url"):
            if answer.get(key) is not None:
                table.add_row(key, str(answer[key]))
        Console().print(table)
