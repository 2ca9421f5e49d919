"""`hubship keygen` and `hubship check-keys` as a user runs them."""

from __future__ import annotations

import stat

from hubship.signing import parse_signing_key, parse_verify_key
from tests.support.cli import run_hubship as hubship_cli  # in process: output and exit codes


def test_keygen_writes_a_private_key_only_its_owner_reads_and_says_where_each_half_goes(
    tmp_path,
):
    private = tmp_path / "keys" / "signing.pem"
    done = hubship_cli("keygen", "--out", str(private), env={})
    assert done.returncode == 0, done.stderr
    public = private.with_suffix(".pub")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = parse_signing_key(str(private))
    assert parse_verify_key(str(public)) == key.public
    assert "HUBSHIP_SIGNING_KEY" in done.stdout and "--env huggingface" in done.stdout
    assert "HUBSHIP_VERIFY_KEY" in done.stdout
    body = [line for line in private.read_text().splitlines() if "-----" not in line]
    assert not any(line in done.stdout for line in body)

    again = hubship_cli("keygen", "--out", str(private), env={})
    assert again.returncode == 1
    assert "already exist; nothing was written" in " ".join(again.stderr.split())
    assert parse_signing_key(str(private)) == key  # the old key pair is untouched


def test_check_keys_names_the_key_and_its_fingerprint(tmp_path):
    private = tmp_path / "signing.pem"
    hubship_cli("keygen", "--out", str(private), env={})
    done = hubship_cli("check-keys", env={"HUBSHIP_SIGNING_KEY": str(private),
                                          "HUBSHIP_VERIFY_KEY": str(private.with_suffix(".pub"))})
    assert done.returncode == 0, done.stderr
    fingerprint = parse_signing_key(str(private)).public.fingerprint[:16]
    assert f"releases will be signed (public key sha256 {fingerprint}" in done.stdout
    unset = hubship_cli("check-keys", env={})
    assert unset.returncode == 0 and "releases will be unsigned" in unset.stdout
