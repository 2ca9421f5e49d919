"""`hubship keygen` and `hubship check-keys`: the key pair that signs and verifies releases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SECRET_ENVIRONMENT = "huggingface"  # the workflow's publish job environment


def register(app: typer.Typer) -> None:
    @app.command("keygen")
    def keygen(
        out: Annotated[Path, typer.Option(
            "--out", help="private key file to write; the public key goes beside it (.pub)",
        )] = Path("hubship-signing.pem"),
    ) -> None:
        """Write a new key pair for signing releases.

        An ECDSA P-256 pair; the command says where each half goes.
        """
        from rich.console import Console

        from hubship.errors import HubshipError
        from hubship.signing import generate, write_key_pair

        public = out.with_suffix(".pub")
        existing = [str(p) for p in (out, public) if p.exists()]
        if existing:
            verb = "exists" if len(existing) == 1 else "exist"
            raise HubshipError(f"{' and '.join(existing)} already {verb}; nothing was written",
                               hint="choose another --out, or move the old key pair away "
                                    "(a new key pair means re-signing: publish with --force)")
        key = generate()
        write_key_pair(out, key)
        console = Console()

        def say(text: str) -> None:
            console.print(text, markup=False, highlight=False)

        say(f"wrote {out} (private key, mode 0600: keep it secret, never commit it)")
        say(f"wrote {public} (public key, sha256 {key.public.fingerprint[:16]}…)")
        say("")
        say(f"publisher (GitHub Actions): add the private key as the secret HUBSHIP_SIGNING_KEY "
            f"in the `{SECRET_ENVIRONMENT}` environment (Settings > Environments), e.g.")
        say(f"  gh secret set HUBSHIP_SIGNING_KEY --env {SECRET_ENVIRONMENT} < {out}")
        say("backend (Railway / Render variables): HUBSHIP_VERIFY_KEY = the public key, as text "
            f"or as a file path, e.g.\n  HUBSHIP_VERIFY_KEY=\"$(cat {public})\"")
        say("then delete the private key file, or keep it offline: the secret is the copy CI "
            "uses. The first signed publish needs --force (the champion is unsigned).")

    @app.command("check-keys")
    def check_keys() -> None:
        """Check the signing and verify keys (exit 2 when wrong).

        HUBSHIP_SIGNING_KEY and HUBSHIP_VERIFY_KEY: format, curve, one pair. The workflow
        runs this before training.
        """
        from rich.console import Console

        from hubship.config import Settings
        from hubship.release import Trust

        settings = Settings.load()
        trust, signing_key = Trust.for_publisher(settings, dry_run=True)
        console = Console()
        if signing_key is not None:
            console.print(f"HUBSHIP_SIGNING_KEY: ok, releases will be signed (public key sha256 "
                          f"{signing_key.public.fingerprint[:16]}…)", markup=False)
        else:
            console.print("HUBSHIP_SIGNING_KEY: not set, releases will be unsigned",
                          markup=False)
        if settings.verify_key and trust.verify_key is not None:
            console.print(f"HUBSHIP_VERIFY_KEY: ok (sha256 {trust.verify_key.fingerprint[:16]}…)",
                          markup=False)
