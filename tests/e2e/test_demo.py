"""`make demo` as a person uses it: the three URLs, the backend on v1 (signed and verified)
through the loop's hot reload, `hubship run` in another terminal shipping v2 (trained from an
uncommitted change: `+dirty`) to the running demo, `hubship releases` and `hubship rollback v1
--deploy` reading the demo's settings and rolling its backend back, two SIGTERMs in a row
stopping everything (no process of the demo left), and a second demo right after, on the same
ports, reusing what the first built."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from huggingface_hub import hf_hub_download

from hubship.manifest import Manifest
from hubship.services import is_up, port_is_free

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"^(hub|backend|frontend): (http://127\.0\.0\.1:\d+)$")
USUAL_PORTS = {"hub": 8900, "backend": 8000, "frontend": 5173}

pytestmark = pytest.mark.slow


class Demo:
    """`python -m hubship demo` in its own process group, its output read line by line."""

    def __init__(self, project: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hubship", "demo"], cwd=project, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for_urls(self, timeout: float = 300) -> dict[str, str]:
        urls: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while len(urls) < 3:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("demo printed no URLs:\n" + "\n".join(self.output)) from None
            self.output.append(line)
            if match := URL_LINE.match(line.strip()):
                urls[match.group(1)] = match.group(2)
        return urls

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self._finish()

    def terminate_twice(self) -> int:
        """SIGTERM, then a second one as soon as the demo says it is stopping."""
        self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.lines.get(timeout=30)
            self.output.append(line)
            if line.startswith("stopping"):
                break
        self.process.send_signal(signal.SIGTERM)
        return self._finish()

    def _finish(self) -> int:
        code = self.process.wait(60)
        time.sleep(0.2)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)


def processes_with(variable: str, value: str) -> list[str]:
    """The command lines of this user's processes whose environment holds variable=value."""
    wanted = f"{variable}={value}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and wanted in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:  # gone meanwhile, or not ours
            continue
    return found


def port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def release_files(hub: str, token: str, revision: str) -> dict[str, str]:
    """The model files' sha256 of the release at `revision`, from its manifest on the hub."""
    path = hf_hub_download("local/models", "manifest.json", revision=revision, endpoint=hub,
                           token=token)
    return Manifest.model_validate_json(Path(path).read_text()).model_hashes()


def hubship(*args: str, project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "hubship", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    print(f"$ hubship {' '.join(args)}\n{done.stdout}{done.stderr}")  # shown when a test fails
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_demo_runs_the_loop_ships_v2_rolls_back_and_two_sigterms_stop_everything(
    tmp_path: Path,
):
    project = tmp_path / "project"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(project)], check=True)
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_ENDPOINT", "HF_TOKEN"))}
    env.update(PYTHONPATH=str(project / "src"), HUBSHIP_HOME=str(home),
               COLUMNS="200", HF_HUB_DISABLE_TELEMETRY="1")
    usual_free = {name for name, number in USUAL_PORTS.items() if port_is_free(number)}

    demo = Demo(project, env)
    try:
        urls = demo.wait_for_urls()
        for name in usual_free:
            assert port(urls[name]) == USUAL_PORTS[name], f"{name} is not on its usual port"
        v1 = httpx.get(f"{urls['backend']}/version").json()
        assert v1["tag"] == "v1" and v1["source"] == "hub"
        assert v1["verified"] is True, "the demo signs releases and its backend verifies them"
        page = httpx.get(urls["frontend"])
        assert page.status_code == 200 and "<script" in page.text
        assert httpx.get(f"{urls['frontend']}/api/version").json()["sha"] == v1["sha"]
        assert httpx.get(f"{urls['hub']}/api/health").status_code == 200
        # the demo's hub has a token of its own, kept in demo.env and never printed
        token = re.search(r"^HF_TOKEN=(.+)$", (tmp_path / "home" / "demo.env").read_text(),
                          flags=re.M).group(1)
        anonymous = httpx.post(f"{urls['hub']}/api/repos/create",
                               json={"organization": "web", "name": "page"})
        assert anonymous.status_code == 401

        train = project / "models" / "train.py"
        train.write_text(re.sub(r"^BODY_MASS_ALPHA = .*$", "BODY_MASS_ALPHA = 0.5",
                                train.read_text(), flags=re.M))
        run = hubship("run", project=project, env=env)
        assert "using the running demo's hub and backend" in run.stdout
        v2 = httpx.get(f"{urls['backend']}/version").json()
        assert v2["tag"] == "v2" and v2["sha"] != v1["sha"]
        assert v2["verified"] is True, "hubship run signs with the demo's key"
        # each section shows its own work: the gate's table under "gate", then "publish";
        # no progress bar of huggingface_hub's
        sections = re.findall(r"^─+ (\w+) ─+$", run.stdout, flags=re.M)
        assert sections[:5] == ["train", "gate", "publish", "deploy", "verify"], sections
        gate_part = run.stdout.split("─ gate ─", 1)[1].split("─ publish ─", 1)[0]
        assert "champion" in gate_part and "gate: passed" in gate_part
        assert re.search(r"^train: .*species f1_macro=.*\(\d+\.\d s\)$", run.stdout, flags=re.M)
        assert "Fetching" not in run.stdout + run.stderr

        # v2 was trained from an uncommitted change: marked wherever its source is shown
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, check=True,
                                capture_output=True, text=True).stdout.strip()
        releases = hubship("releases", project=project, env=env).stdout
        assert re.search(rf"^.*\bv2\b.*{commit[:7]}\+dirty", releases, flags=re.M), releases
        assert re.search(rf"^.*\bv1\b.*{commit[:7]}(?!\+dirty)", releases, flags=re.M)
        rows = {row["tag"]: row for row in httpx.get(f"{urls['backend']}/releases").json()}
        assert (rows["v1"]["source_dirty"], rows["v2"]["source_dirty"]) == (False, True)

        # roll the demo's production back in one command, with the demo's settings
        rollback = hubship("rollback", "v1", "--deploy", project=project, env=env)
        v3 = httpx.get(f"{urls['backend']}/version").json()
        assert v3["tag"] == "v3" and v3["sha"] in rollback.stdout
        assert f"serves v3 ({v3['sha']})" in " ".join(rollback.stdout.split())
        hub_files = release_files(urls["hub"], token, v3["sha"])
        assert hub_files == release_files(urls["hub"], token, v1["sha"])
        subprocess.run(["git", "checkout", "models/train.py"], cwd=project, check=True)

        assert demo.terminate_twice() == 0
        assert "stopped: frontend, backend, hub" in "\n".join(demo.output)
        assert token not in "\n".join(demo.output) + run.stdout + run.stderr
        for url in urls.values():
            assert not is_up(url), f"{url} still answers after the demo stopped"
        assert processes_with("HUBSHIP_HOME", str(home)) == []
        backend_log = (home / "backend.log").read_text()
        assert " ERROR " not in backend_log and "Fetching" not in backend_log, backend_log
    finally:
        demo.kill()

    again = Demo(project, env)  # right after: its ports hold sockets in TIME_WAIT
    try:
        again_urls = again.wait_for_urls()
        for name, url in urls.items():  # the usual ports stay theirs
            if port(url) == USUAL_PORTS[name]:
                assert port(again_urls[name]) == USUAL_PORTS[name], again_urls
        assert httpx.get(f"{again_urls['backend']}/version").json()["sha"] == v3["sha"]
        # the new backend loads v3 as it starts; the loop (training v1's models again) either
        # finds it serving v3 or, if the run got there first, reloads it: verify proves both
        assert any(re.search(rf"unchanged: production (already|caught up and) serves v3 "
                             rf"\({v3['sha']}\)", line) for line in again.output), again.output
        assert again.interrupt() == 0
    finally:
        again.kill()
