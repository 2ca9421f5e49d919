"""Checks on everything a client sends: JSON bodies and their fields, repo ids, branch and tag
names, paths in a repo.

Each check raises BadRequest with what is wrong and how to fix it, before anything is written,
so a value of the wrong type is a 400, never a crash (500) further down.
"""

from __future__ import annotations

import re
from typing import Any

from hubship.hub.errors import BadRequest
from hubship.hub.rawpath import REPO_ACTIONS

MAX_PATH_LENGTH = 1024
MAX_REF_LENGTH = 200
RESERVED_NAMESPACES = frozenset({"api", "static", "resolve"})
RESERVED_REF_NAMES = frozenset({"HEAD", "@"})
RESERVED_REPO_NAMES = REPO_ACTIONS

_REPO_PART = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def is_full_sha(value: object) -> bool:
    return isinstance(value, str) and bool(_FULL_SHA.match(value))


def json_object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"the request body must be a JSON object, not {_json_type(body)}")
    return body


def optional_str(body: dict[str, Any], key: str) -> str | None:
    """`body[key]` when it is a string; None when absent or null; BadRequest otherwise."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{key!r} must be a string, not {_json_type(value)}")
    return value


def optional_bool(body: dict[str, Any], key: str) -> bool | None:
    """`body[key]` when it is true or false; None when absent or null; BadRequest otherwise."""
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"{key!r} must be true or false, not {_json_type(value)}")
    return value


def _json_type(value: object) -> str:
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
             str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def check_repo_part(value: object, what: str) -> str:
    """A namespace or repo name: letters, digits, `-`, `_`, `.`; no `--` or `..`."""
    if (not isinstance(value, str) or not _REPO_PART.match(value) or "--" in value
            or ".." in value):
        raise BadRequest(
            f"invalid {what} {value!r}: use 1-96 letters, digits, '-', '_' or '.', starting and "
            "ending with a letter or digit, without '--' or '..'"
        )
    return value


def check_repo_name(value: object) -> str:
    value = check_repo_part(value, "repo name")
    if value in RESERVED_REPO_NAMES:
        raise BadRequest(f"the repo name {value!r} is reserved by the hub; pick another one")
    return value


def check_namespace(value: object) -> str:
    value = check_repo_part(value, "namespace")
    if value.lower() in RESERVED_NAMESPACES:
        raise BadRequest(f"the namespace {value!r} is reserved by the hub; pick another one")
    return value


def check_ref_name(value: object, what: str) -> str:
    """A branch or tag name: git's rules, `/` allowed (`rel/1.0`), never a bare commit sha."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_REF_LENGTH
        or _REF_FORBIDDEN.search(value)
        or value.startswith(("/", "-", "refs/"))
        or value.endswith(("/", ".", ".lock"))
        or ".." in value
        or "//" in value
        or "@{" in value
    ):
        raise BadRequest(
            f"invalid {what} name {value!r}: use letters, digits and '._-/' "
            "(no spaces, '..', leading '/' or 'refs/' prefix)"
        )
    if is_full_sha(value):
        raise BadRequest(f"invalid {what} name {value!r}: it looks like a commit sha")
    if value in RESERVED_REF_NAMES:
        raise BadRequest(f"invalid {what} name {value!r}: git reserves it; pick another name")
    return value


def check_repo_path(value: object) -> str:
    """A file path inside the repo, relative and normalised, that cannot escape it."""
    if not isinstance(value, str) or not value:
        raise BadRequest("every operation needs a non-empty 'path' string")
    problem = None
    if len(value) > MAX_PATH_LENGTH:
        problem = f"longer than {MAX_PATH_LENGTH} characters"
    elif "\\" in value:
        problem = "contains a backslash; use '/' between folders"
    elif value.startswith("/"):
        problem = "is absolute; give it relative to the repo root"
    elif any(ord(c) < 0x20 or c == "\x7f" for c in value):
        problem = "contains a control character"
    elif any(part in ("", ".", "..") for part in value.split("/")):
        problem = "has an empty, '.' or '..' segment; it must stay inside the repo"
    elif value.split("/")[0] == ".git":
        problem = "points into '.git', which the hub manages itself"
    if problem:
        raise BadRequest(f"invalid path {value!r}: it {problem}")
    return value
