"""What bench/serving.py needs around the servers: wrk, CPU accounting, the LitServe venv, the
releases (trained, lightened, published on an embedded hub) and the baseline checkout."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LITSERVE = "litserve==0.2.19"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hubship-bench"
LUA = """wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""
GET_LUA = LUA.split("\n", 3)[3]  # the same report, for GET


def stop_like_ctrl_c() -> None:
    """A SIGTERM (`kill`, a CI timeout, a service manager) ends the script as Ctrl-C does: a
    KeyboardInterrupt, so the `finally` blocks and context managers stop every server it
    started (by default a SIGTERM ends Python without them, and the servers, each in a session
    of its own, live on). Later SIGINTs and SIGTERMs are ignored so the stopping is not cut
    short; each stop is bounded (`Service.stop`: SIGKILL after 10 s)."""

    def interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def stop_all(services: list) -> None:
    """Stop each service (SIGTERM to its process group, SIGKILL if it lingers), then SIGKILL
    whatever is left of its group: a server's own children (LitServe's workers) that outlive
    it spin at 100% CPU."""
    for service in services:
        service.stop()
        if service.process is not None:
            with contextlib.suppress(ProcessLookupError):  # the whole group is gone
                os.killpg(service.process.pid, signal.SIGKILL)


def ensure_wrk() -> None:
    """wrk from Debian, installed when missing (as root)."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        raise SystemExit("wrk is not installed: sudo apt-get install -y wrk")
    print("installing wrk (apt-get) ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False,
                   stdout=subprocess.DEVNULL)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       stdout=subprocess.DEVNULL)


def litserve_python() -> Path:
    """A throwaway venv with LitServe and this project's pinned scikit-learn stack (so it
    unpickles the same files), under ~/.cache/hubship-bench; never part of the project."""
    venv = CACHE / LITSERVE.replace("==", "-")
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        print(f"installing {LITSERVE} in {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pins = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
                if re.match(r"(scikit-learn|scipy|numpy|pandas|joblib)==", line.strip())]
        subprocess.run([str(python), "-m", "pip", "install", "-q", LITSERVE, *pins],
                       check=True)
        (venv / ".installed").touch()
    return python


def baseline_checkout(revision: str, into: Path) -> Path:
    """`src/` and `backend/` of `revision` (e.g. the hubship before this change), to run
    with PYTHONPATH=<it>/src."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src", "backend"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


# ---- CPU of a process and its descendants ------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int, *, alone: bool = False) -> float:
    """CPU seconds (user + system) used so far by `pid` and every live descendant (or by
    `pid` alone)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK
    family, frontier = {pid}, [] if alone else [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in family:
                family.add(child)
                frontier.append(child)
    return sum(times.get(p, 0.0) for p in family)


# ---- wrk ----------------------------------------------------------------------------------


def wrk_start(url: str, connections: int, duration: float, script: Path, body: str | None
              ) -> subprocess.Popen:
    script.write_text(LUA.format(body=body) if body is not None else GET_LUA)
    return subprocess.Popen(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "-s",
         str(script), url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(process: subprocess.Popen) -> dict:
    out, _ = process.communicate(timeout=600)
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    requests, micros, p50, p99, socket_errors, bad_status = map(int, match.groups())
    return {"rps": requests / (micros / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
            "errors": socket_errors + bad_status, "requests": requests}


def wrk(url: str, connections: int, duration: float, script: Path, body: str | None = None,
        *, pid: int | None = None) -> dict:
    """One wrk run; with `pid`, also the server's CPU milliseconds per request."""
    before = (tree_cpu(pid), tree_cpu(pid, alone=True)) if pid else (0.0, 0.0)
    result = wrk_result(wrk_start(url, connections, duration, script, body))
    if pid:
        requests = max(result["requests"], 1)
        result["cpu_ms"] = (tree_cpu(pid) - before[0]) * 1000 / requests
        result["http_process_cpu_ms"] = (tree_cpu(pid, alone=True) - before[1]) * 1000 / requests
    return result


def time_until_ok(argv: list[str], *, env: dict, cwd: Path, url: str, body: dict,
                  log: Path, timeout: float = 120) -> float:
    """Seconds from starting `argv` to the first 200 from POST `url`; the process is stopped."""
    import httpx

    started = time.perf_counter()
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd, stdout=log.open("ab"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with httpx.Client(timeout=5) as client:
            while time.perf_counter() - started < timeout:
                try:
                    if client.post(url, json=body).status_code == 200:
                        return time.perf_counter() - started
                except httpx.HTTPError:
                    pass
                time.sleep(0.005)
        raise RuntimeError(f"no 200 from {url} within {timeout} s; see {log}")
    finally:
        os.killpg(process.pid, 15)
        process.wait(30)


# ---- releases -------------------------------------------------------------------------------


def train(assets: Path) -> None:
    env = {**os.environ, "HUBSHIP_ASSETS_DIR": str(assets)}
    subprocess.run([sys.executable, str(ROOT / "models" / "train.py")], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def lighten(assets: Path) -> None:
    """Swap each model for a small scaler + linear model on the numeric inputs (same inputs,
    same answers' shape), refitted on its holdout set, so serving overhead is what shows."""
    import joblib
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from hubship.manifest import Manifest, sha256_file

    manifest = Manifest.read(assets)
    models = {}
    for name, entry in manifest.models.items():
        numbers = [spec.name for spec in entry.inputs if spec.type == "number"]
        holdout = pd.read_parquet(assets / entry.holdout.file).dropna(subset=numbers)
        estimator = LogisticRegression() if entry.task == "classification" else Ridge()
        model = make_pipeline(ColumnTransformer([("scale", StandardScaler(), numbers)]),
                              estimator)
        model.fit(holdout[[spec.name for spec in entry.inputs]], holdout[entry.output.target])
        path = assets / entry.file
        joblib.dump(model, path)
        models[name] = entry.model_copy(update={"sha256": sha256_file(path),
                                                "size": path.stat().st_size})
    manifest.model_copy(update={"models": models}).write(assets)


def publish(hub_url: str, repo_id: str, release_dir: Path, number: int) -> str:
    """One raw commit of `release_dir`, numbered `number` and tagged v<number>; its sha."""
    from huggingface_hub import HfApi

    from hubship.manifest import Manifest

    manifest = Manifest.read(release_dir)
    manifest.model_copy(update={"release": number}).write(release_dir)
    api = HfApi(endpoint=hub_url, token=False)
    api.create_repo(repo_id, exist_ok=True)
    commit = api.upload_folder(folder_path=release_dir, repo_id=repo_id,
                               commit_message=f"release v{number}")
    api.create_tag(repo_id, tag=f"v{number}", revision=commit.oid)
    return commit.oid
