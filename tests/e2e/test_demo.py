"""`make demo` as a person uses it: the three URLs, the backend on v1 (signed and verified)
through the loop's hot reload, `hubship run` in another terminal shipping v2 to the running
demo, Ctrl-C stopping everything, and a second demo reusing what the first built."""

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

from hubship.services import is_up

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"^(hub|backend|frontend): (http://127\.0\.0\.1:\d+)$")

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
        code = self.process.wait(60)
        time.sleep(0.2)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)


def test_demo_runs_the_loop_then_hubship_run_ships_v2_and_ctrl_c_stops_everything(
    tmp_path: Path,
):
    project = tmp_path / "project"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(project)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_ENDPOINT", "HF_TOKEN"))}
    env.update(PYTHONPATH=str(project / "src"), HUBSHIP_HOME=str(tmp_path / "home"),
               COLUMNS="200", HF_HUB_DISABLE_TELEMETRY="1")

    demo = Demo(project, env)
    try:
        urls = demo.wait_for_urls()
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
        run = subprocess.run([sys.executable, "-m", "hubship", "run"], cwd=project, env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "using the running demo's hub and backend" in run.stdout
        v2 = httpx.get(f"{urls['backend']}/version").json()
        assert v2["tag"] == "v2" and v2["sha"] != v1["sha"]
        assert v2["verified"] is True, "hubship run signs with the demo's key"

        assert demo.interrupt() == 0
        assert "stopped: frontend, backend, hub" in "\n".join(demo.output)
        assert token not in "\n".join(demo.output) + run.stdout + run.stderr
        for url in urls.values():
            assert not is_up(url), f"{url} still answers after Ctrl-C"
    finally:
        demo.kill()

    again = Demo(project, env)
    try:
        urls = again.wait_for_urls()
        assert httpx.get(f"{urls['backend']}/version").json()["sha"] == v2["sha"]
        # the new backend loads v2 as it starts; the loop either finds it serving v2 or,
        # if the run got there first, reloads it: both are proven by verify
        assert any(re.search(rf"unchanged: production (already|caught up and) serves v2 "
                             rf"\({v2['sha']}\)", line) for line in again.output)
        assert again.interrupt() == 0
    finally:
        again.kill()
