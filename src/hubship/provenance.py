"""Where a release came from: git state, data file hashes, Python and package versions.

In GitHub Actions the workflow's own variables win over what local git says (a CI checkout is
often a detached merge commit): GITHUB_SHA, GITHUB_REF, GITHUB_REPOSITORY and the run URL from
GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID.
Nothing here fails training (without git, or outside CI, the fields stay None), except a dirty
tree in GitHub Actions (`require_committed`): a release built by CI must be exactly a commit.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from hubship.errors import BundleError
from hubship.manifest import Environment, Source, sha256_file, utcnow

PACKAGES = ("scikit-learn", "numpy", "scipy", "joblib", "pandas", "pyarrow", "hubship")


def _git(args: list[str], cwd: Path) -> str | None:
    """Output of one git command, or None when git is missing or the command fails."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def repo_root(start: Path) -> Path | None:
    """The top folder of the git work tree holding `start`, if any."""
    folder = start if start.is_dir() else start.parent
    while not folder.exists():
        folder = folder.parent
    top = _git(["rev-parse", "--show-toplevel"], folder)
    return Path(top).resolve() if top else None


def git_source(root: Path | None, env: Mapping[str, str] | None = None) -> Source:
    """Commit, dirty flag, ref and subject from git, overridden by GitHub Actions variables."""
    env = os.environ if env is None else env
    commit = dirty = ref = subject = None
    if root is not None:
        commit = _git(["rev-parse", "HEAD"], root)
        if commit:
            status = _git(["status", "--porcelain"], root)
            dirty = None if status is None else bool(status)
            ref = _git(["symbolic-ref", "-q", "HEAD"], root)
            subject = _git(["log", "-1", "--format=%s"], root)
    repository = env.get("GITHUB_REPOSITORY") or None
    run_url = None
    if env.get("GITHUB_SERVER_URL") and repository and env.get("GITHUB_RUN_ID"):
        run_url = f"{env['GITHUB_SERVER_URL'].rstrip('/')}/{repository}/actions/runs/" \
                  f"{env['GITHUB_RUN_ID']}"
    ci_commit = env.get("GITHUB_SHA") or None
    if ci_commit and ci_commit != commit:
        subject = None  # local git described another commit
    return Source(
        git_commit=ci_commit or commit,
        git_dirty=dirty,
        git_ref=env.get("GITHUB_REF") or ref,
        git_subject=subject,
        repository=repository,
        run_url=run_url,
    )


def require_committed(source: Source, root: Path | None,
                      env: Mapping[str, str] | None = None) -> None:
    """In GitHub Actions (GITHUB_ACTIONS=true), refuse a release from a tree with uncommitted
    changes: the release would claim a commit its files do not come from. Locally such a
    release is allowed and marked `<sha>+dirty` everywhere it is shown."""
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTIONS") != "true" or not source.git_dirty:
        return
    changed = (_git(["status", "--porcelain"], root) or "").splitlines() if root else []
    shown = "; ".join(line.strip() for line in changed[:5]) + ("; ..." if len(changed) > 5 else "")
    raise BundleError(
        f"the working tree has uncommitted changes ({shown or 'see git status'}): in CI a "
        f"release must be built from its commit ({(source.git_commit or '?')[:12]}) alone",
        hint="commit the changes (or stop the workflow from writing into tracked files; "
             "add generated files to .gitignore), then run again",
    )


def data_hashes(files: Iterable[Path], root: Path) -> dict[str, str]:
    """{path relative to `root` (POSIX; the file name when outside it): sha256}."""
    hashes: dict[str, str] = {}
    for file in files:
        path = Path(file).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"data file {file} does not exist")
        try:
            key = path.relative_to(root).as_posix()
        except ValueError:
            key = path.name
        hashes[key] = sha256_file(path)
    return dict(sorted(hashes.items()))


def package_version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> Environment:
    return Environment(
        python=platform.python_version(),
        packages={name: package_version(name) for name in PACKAGES},
    )


def created_at(env: Mapping[str, str] | None = None) -> datetime:
    """Now in UTC, or SOURCE_DATE_EPOCH when set (for byte-identical manifests)."""
    env = os.environ if env is None else env
    epoch = env.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return utcnow()
