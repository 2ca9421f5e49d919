"""Names and paths a client sends are checked before anything is stored."""

from __future__ import annotations

import pytest

from hubship.hub.errors import BadRequest
from hubship.hub.validation import check_ref_name, check_repo_part, check_repo_path


@pytest.mark.parametrize("path", ["a.txt", "models/m.joblib", "a/b/c.d", ".gitattributes"])
def test_paths_inside_the_repo_pass(path):
    assert check_repo_path(path) == path


@pytest.mark.parametrize("path", ["", "../x", "a/../../x", "/etc/passwd", "a\\b", "a//b", "./a",
                                  "a/.", ".git/config", "a\nb", None, 3])
def test_paths_escaping_the_repo_are_refused(path):
    with pytest.raises(BadRequest):
        check_repo_path(path)


@pytest.mark.parametrize("name", ["v1", "rel/1.0", "release-2026.11", "dev_x"])
def test_good_ref_names(name):
    assert check_ref_name(name, "tag") == name


@pytest.mark.parametrize("name", ["", "a b", "a..b", "/x", "x/", "refs/tags/x", "x.lock",
                                  "a~1", "a:b", "0123456789abcdef0123456789abcdef01234567",
                                  None, 5, ["v1"]])
def test_bad_ref_names(name):
    with pytest.raises(BadRequest):
        check_ref_name(name, "tag")


@pytest.mark.parametrize("name", ["a--b", "a..b", "-a", "a b", "", "x" * 97, None, 5, ["a"]])
def test_bad_repo_names(name):
    with pytest.raises(BadRequest):
        check_repo_part(name, "repo name")
