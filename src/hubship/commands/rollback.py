"""`hubship rollback`: restore an older release as the next one, and (`--deploy`) roll
production back to it in the same command: deploy + verify, as `hubship run` does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from hubship.config import Settings
    from hubship.publish import PublishResult


def register(app: typer.Typer) -> None:
    @app.command("rollback")
    def rollback_command(
        target: Annotated[str, typer.Argument(
            help="the release to restore: a tag (v3) or a sha", show_default=False)],
        deploy: Annotated[bool, typer.Option(
            "--deploy/--no-deploy", metavar="",
            help="then deploy the new release to DEPLOY_TARGET and verify BACKEND_URL serves "
            "it (production rolled back in one step)")] = False,
    ) -> None:
        """Restore an older release as the next release on main.

        A new commit with the older release's files, tagged v<N+1>.

        Production keeps serving what it served until the new release is deployed: with
        --deploy this command does it; without, it prints the command that does.
        """
        from rich.console import Console

        from hubship.commands.publish import write_github_output
        from hubship.demo import command_settings
        from hubship.deploy import check_verifiable
        from hubship.publish import rollback
        from hubship.registry import Registry
        from hubship.release import Trust
        from hubship.services import start_local_hub_if_used

        console = Console()
        settings = command_settings(console)
        if deploy:  # refuse before publishing anything
            check_verifiable(settings)
            _require_target(settings)
        trust, signing_key = Trust.for_publisher(settings)
        registry = Registry.from_settings(settings)
        start_local_hub_if_used(settings, console)
        with console.status(f"restoring {target}…"):
            result = rollback(registry, target, console=console, trust=trust,
                              signing_key=signing_key)
        write_github_output(result)
        if deploy:
            roll_out(settings, result, console)
        else:
            console.print(next_step(settings, result, target), markup=False, highlight=False)


def _require_target(settings: Settings) -> None:
    from hubship.commands.deploy import NO_TARGET_HINT
    from hubship.errors import ConfigError

    if settings.deploy_target == "none":
        raise ConfigError("--deploy needs a deploy target, and DEPLOY_TARGET is none",
                          hint=NO_TARGET_HINT)


def next_step(settings: Settings, result: PublishResult, target: str) -> str:
    """The exact command that makes production serve the restored release."""
    sha = result.sha
    command = f"hubship deploy --sha {sha} && hubship verify --sha {sha}"
    if settings.deploy_target == "none":
        return (f"production still serves what it served: nothing deploys {result.tag} "
                f"(DEPLOY_TARGET is none). Set DEPLOY_TARGET and BACKEND_URL, then run:\n"
                f"  {command}")
    return (f"production still serves what it served. Next, roll it back:\n  {command}\n"
            f"(`hubship rollback {target} --deploy` does the rollback, deploy and verify "
            "in one step)")


def roll_out(settings: Settings, result: PublishResult, console: Console) -> None:
    """Deploy the restored release unless production serves it already, then verify."""
    from rich.text import Text

    from hubship.deploy import deploy_if_needed, verify_live

    with console.status(f"deploying {result.tag}…"):
        done = deploy_if_needed(settings, sha=result.sha, changed=result.changed,
                                label=result.tag, commit_sha=settings.deploy_commit)
    if done.skipped is not None:
        console.print(Text.assemble(("deploy skipped: ", "yellow"), done.skipped.reason))
        if done.skipped.pinned_to is not None:
            return
    elif done.result is not None:
        console.print(Text.assemble(("deploy started: ", "green"), done.result.detail))
    url = settings.backend_url
    assert url is not None  # check_verifiable: a deploy target has a BACKEND_URL
    with console.status(f"verifying {url} serves {result.tag}…"):
        version = verify_live(url, result.sha, timeout=settings.verify_timeout,
                              replicas=settings.verify_replicas)
    console.print(Text.assemble(("verified: ", "bold green"),
                                f"{url} serves {version.tag} ({result.sha})"))
