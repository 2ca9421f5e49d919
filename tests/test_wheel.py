"""hubship installed from its wheel, not from the editable checkout the other tests import.

Railway and Render install it that way (`pip install -r requirements.txt`, whose last line is
`.`: pip builds a wheel from the checkout and installs it), and so does `pip install hubship`.
A file the package reads at run time (the hub pages' site.css and pages.css, read through
importlib.resources) that the wheel leaves out works here and fails only there.

The wheel is built with the build backend pyproject.toml names, from a copy of the checkout
(setuptools writes build/ and *.egg-info beside the sources: the copy keeps the checkout clean
and a stale build/ out of the wheel), offline (no build isolation: the dev extra installs the
same setuptools). It goes into a fresh venv that sees the dependencies of this environment
through a path file but not its editable hubship, and every command runs from a temporary
folder, so `import hubship` finds the installed copy (checked).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from hubship.cli import FLOW_ORDER
from hubship.services import Service, free_port

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "hubship"
NOT_SHIPPED = ("__pycache__", "*.pyc", "*.egg-info")


def _run(argv: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command that must succeed (its whole output in the failure message), run without
    PYTHONPATH, which could put the checkout's src/ first."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel .` builds from this checkout."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    out = tmp_path_factory.mktemp("dist")
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "--no-index", "--wheel-dir", out, source], cwd=source)
    (built,) = out.glob("hubship-*.whl")
    # A deprecation the build backend reports today is a build that fails on a later date
    # (`license` as a table: "By 2027-Feb-18 ... your builds will no longer be supported").
    log = build.stdout + build.stderr
    assert not re.search(r"deprecat", log, re.IGNORECASE), (
        f"building the wheel warns of a deprecation: change pyproject.toml now\n{log}")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed, and this environment's packages on its path."""
    folder = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", folder], cwd=folder)
    python = folder / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
          "--quiet", wheel], cwd=folder)
    # The dependencies (fastapi, uvicorn, ...) from this environment's site-packages, added as
    # plain path entries after the venv's own: their .pth files, among them the one that
    # installs the editable hubship, are not run, and the venv's hubship comes first.
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                   cwd=folder).stdout.strip()
    (Path(purelib) / "test_dependencies.pth").write_text("\n".join(site.getsitepackages()))
    return folder


def _package_files() -> set[str]:
    """Every file of src/hubship, as the wheel names it: the modules and the data files."""
    return {f"hubship/{path.relative_to(PACKAGE).as_posix()}" for path in PACKAGE.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}


def test_the_wheel_holds_every_file_of_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("hubship/")}
        entry_points = archive.read(
            next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
    expected = _package_files()
    assert {"hubship/hub/site.css", "hubship/hub/pages.css", "hubship/py.typed"} <= expected
    missing = sorted(expected - shipped)
    assert not missing, (f"the wheel leaves out {missing}: add their pattern to "
                         "[tool.setuptools.package-data] in pyproject.toml")
    assert sorted(shipped - expected) == []
    assert "hubship = hubship.cli:main" in entry_points


def test_the_installed_command_runs_from_its_own_copy(venv: Path, tmp_path: Path) -> None:
    python, command = venv / "bin" / "python", venv / "bin" / "hubship"
    where = _run([python, "-c", "import hubship; print(hubship.__file__)"], cwd=tmp_path).stdout
    assert Path(where.strip()).is_relative_to(venv), f"imported {where} instead of the venv's"

    help_text = _run([command, "--help"], cwd=tmp_path).stdout
    for name in FLOW_ORDER:  # every command module came along (the CLI finds them by listing)
        assert re.search(rf"^\s+{name}\s", help_text, re.MULTILINE), (name, help_text)
    metadata = _run([python, "-c", "import importlib.metadata as m; print(m.version('hubship'))"],
                    cwd=tmp_path).stdout.strip()
    assert _run([command, "--version"], cwd=tmp_path).stdout.strip() == f"hubship {metadata}"


def test_the_installed_hub_serves_its_pages_with_the_packaged_styles(
    venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)  # the Service starts with this environment
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    hub = Service("hub", [str(venv / "bin" / "hubship"), "hub", "--port", str(port),
                          "--data-dir", str(tmp_path / "hub")],
                  url=url, health_url=f"{url}/api/health", cwd=tmp_path,
                  log_path=tmp_path / "hub.log")
    with hub:
        page = httpx.get(f"{hub.url}/", timeout=10)
    assert page.status_code == 200, (page.text, (tmp_path / "hub.log").read_text())

    css = "".join((PACKAGE / "hub" / name).read_text(encoding="utf-8")
                  for name in ("site.css", "pages.css"))
    assert f"<style>{css}</style>" in page.text
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in page.headers["content-security-policy"]
