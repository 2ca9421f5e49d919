"""`hubship deploy` and `hubship verify`: start a deploy, then prove production serves it."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from hubship.config import Settings

SHA_HELP = "the release's Hub commit sha (what `publish` printed); default HUBSHIP_RELEASE_SHA"


class Target(StrEnum):
    railway = "railway"
    render = "render"
    webhook = "webhook"
    none = "none"


def _release_sha(sha: str | None, settings: Settings) -> str:
    from hubship.errors import ConfigError

    sha = (sha or settings.release_sha or "").strip()
    if not sha:
        raise ConfigError(
            "no release sha given",
            hint="pass --sha <hub commit sha> or set HUBSHIP_RELEASE_SHA (in the workflow, "
            "the publish job's `sha` output)",
        )
    return sha


def _load_settings(**overrides: object) -> Settings:
    """The environment with the options given, or the running demo's settings (demo.env)."""
    from hubship.demo import command_settings

    return command_settings(**overrides)


NO_TARGET_HINT = (
    "set DEPLOY_TARGET (railway, render or webhook) and BACKEND_URL, or pass --target; "
    "with `make demo` running, its settings are read from .hubship/demo.env"
)


def register(app: typer.Typer) -> None:
    @app.command()
    def deploy(
        sha: Annotated[str | None, typer.Option(
            "--sha", help=SHA_HELP, show_default=False)] = None,
        target: Annotated[Target | None, typer.Option(
            "--target", help="override DEPLOY_TARGET", show_default=False)] = None,
        commit_sha: Annotated[str | None, typer.Option(
            "--commit-sha",
            help="opt-in, Railway only: deploy exactly this git commit (it may be older than "
            "what runs now); default HUBSHIP_DEPLOY_COMMIT, unset = redeploy the current code",
            show_default=False)] = None,
        if_needed: Annotated[bool, typer.Option(
            "--if-needed/--no-if-needed", metavar="",
            help="ask BACKEND_URL/version first: skip the deploy when production already "
            "serves the release, or is pinned to another revision (MODEL_REVISION) and the "
            "release is unchanged; fail at once when a new release could never be served "
            "(pinned); with no answer, deploy", show_default=False)] = False,
        changed: Annotated[bool | None, typer.Option(
            "--changed/--unchanged", metavar="",
            help="whether the publish step made a new release (for --if-needed); default "
            "HUBSHIP_RELEASE_CHANGED, unset = new", show_default=False)] = None,
    ) -> None:
        """Start a deploy of a release on DEPLOY_TARGET.

        Targets: railway, render, webhook or none.

        Needs BACKEND_URL for any target but none: nothing else could prove the deploy.
        With no target (none), a sha given with --sha is an error (exit 2): nothing would
        deploy it. In GitHub Actions it writes `verify=true|false` to $GITHUB_OUTPUT: false
        only when production is pinned to another revision, so there is nothing to verify.
        """
        from rich.console import Console
        from rich.text import Text

        from hubship.deploy import check_verifiable, deploy_if_needed, trigger
        from hubship.errors import ConfigError
        from hubship.github import append_output

        settings = _load_settings(deploy_target=target.value if target else None,
                                  release_changed=changed)
        check_verifiable(settings)
        if sha and not if_needed and settings.deploy_target == "none":
            raise ConfigError(f"no deploy target: nothing would deploy {sha} "
                              "(DEPLOY_TARGET is none)", hint=NO_TARGET_HINT)
        release = _release_sha(sha, settings)
        commit = commit_sha or settings.deploy_commit
        console = Console()
        if if_needed:
            done = deploy_if_needed(settings, sha=release, changed=settings.release_changed,
                                    label=settings.release_tag, commit_sha=commit)
            if done.skipped is not None:
                console.print(Text.assemble(("deploy skipped: ", "green"), done.skipped.reason))
                append_output(verify=done.skipped.pinned_to is None)
                return
            result = done.result
            assert result is not None  # not skipped: deploy_if_needed started one
        else:
            result = trigger(settings, sha=release, commit_sha=commit)
        mark = ("deploy started: ", "green") if result.triggered else ("no deploy: ", "yellow")
        console.print(Text.assemble(mark, result.detail))
        append_output(verify="true")

    @app.command()
    def verify(
        sha: Annotated[str | None, typer.Option(
            "--sha", help=SHA_HELP, show_default=False)] = None,
        backend_url: Annotated[str | None, typer.Option(
            "--backend-url", help="the backend to ask; default BACKEND_URL",
            show_default=False)] = None,
        timeout: Annotated[float | None, typer.Option(
            "--timeout", min=0.1, help="seconds to wait; default HUBSHIP_VERIFY_TIMEOUT (300)",
            show_default=False)] = None,
        interval: Annotated[float, typer.Option(
            "--interval", min=0.05, help="seconds between requests")] = 2.0,
        replicas: Annotated[int | None, typer.Option(
            "--replicas", min=1,
            help="distinct replicas (behind a load balancer) that must serve the release, "
            "told apart by the replica /version names; default HUBSHIP_VERIFY_REPLICAS (1)",
            show_default=False)] = None,
    ) -> None:
        """Wait until the backend serves the release (its /version).

        Fails (exit 1) with what it serves instead.
        """
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from hubship.deploy import verify_live
        from hubship.deploy.result import required

        settings = _load_settings(backend_url=backend_url, verify_timeout=timeout,
                                  verify_replicas=replicas)
        release = _release_sha(sha, settings)
        url = required(settings.backend_url, "BACKEND_URL", needed_by="`hubship verify`")
        answer = verify_live(url, release, timeout=settings.verify_timeout,
                             interval=interval, replicas=settings.verify_replicas)
        table = Table(title=Text(f"{url} serves"), show_header=False)
        shown = answer.model_dump(include={"sha", "tag", "release", "source", "loaded_at",
                                           "repo_id", "commit_url", "replica"})
        for key, value in shown.items():
            if value is not None:  # the backend's words: never Rich markup
                table.add_row(key, Text(str(value)))
        Console().print(table)
