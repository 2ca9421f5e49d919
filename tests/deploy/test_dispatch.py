"""What production's `/version` answer means for a deploy (docs/api.md: `revision` is what
MODEL_REVISION asked for)."""

from __future__ import annotations

import pytest

from hubship.deploy import no_deploy_needed, pinned_revision
from hubship.errors import DeployError
from hubship.serving.answers import VersionInfo
from tests.support.standin import version_answer

SHA = "b" * 40


def version(sha: str, *, tag: str = "v3", revision: str) -> VersionInfo:
    return VersionInfo.model_validate(version_answer(sha, tag=tag, revision=revision))


@pytest.mark.parametrize("revision", ["main", "refs/heads/main", ""])
def test_a_backend_watching_main_is_not_pinned(revision):
    assert pinned_revision(version("a" * 40, revision=revision)) is None
    assert no_deploy_needed(version("a" * 40, revision=revision), sha=SHA,
                            changed=False) is None  # unchanged but behind: catch up


@pytest.mark.parametrize("revision", ["v3", "a" * 40, "staging"])
def test_any_other_revision_is_a_pin(revision):
    pinned = version("a" * 40, revision=revision)
    assert pinned_revision(pinned) == revision
    skip = no_deploy_needed(pinned, sha=SHA, changed=False)
    assert skip is not None and skip.pinned_to == revision
    with pytest.raises(DeployError, match=f"published v4, but production is pinned to "
                                          f"{revision} by MODEL_REVISION"):
        no_deploy_needed(pinned, sha=SHA, changed=True, label="v4")


def test_serving_the_release_already_beats_a_pin():
    skip = no_deploy_needed(version(SHA, tag="v4", revision="v4"), sha=SHA, changed=True)
    assert skip is not None and skip.pinned_to is None  # verify still runs
    assert skip.reason.startswith(f"production already serves {SHA[:12]} (v4")


def test_no_answer_means_deploy():
    assert no_deploy_needed(None, sha=SHA, changed=True) is None
