"""Cold start: process start to the first predict 200, hubship beside the bare floor.

    .venv/bin/python bench/cold_start.py [--runs 5] [--baseline REV]

Trains the real penguin release (`models/train.py`), publishes it as v1 on an embedded hub,
starts hubship once to fill its Hub cache (HUBSHIP_HOME), then starts, alternating, `uvicorn
backend.main:app` (one inference process, the default; also hubship at REV with --baseline)
and the floor (`bench/peers.py` floor_app: uvicorn + Starlette + pandas + joblib.load), each
`--runs` times, and reports the median time to the first 200 on predict and the ratio.

For hubship it also prints where the time goes, from outside the process: /health answers
(Python started, imports done, the app created, uvicorn listening), /ready answers (the
Hub asked, the release verified and loaded, the inference process holding it), predict
answers (the first model call); and for each, the CPU seconds the server and its children
used by the first 200 (on a loaded machine the wall time follows the CPU more than the
overlap of the backend and its inference process).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_XET", "1")  # the embedded hub speaks LFS, not Xet

import harness  # noqa: E402
from peers import RECORDS  # noqa: E402

ROOT = harness.ROOT
REPO = "bench/penguins"
UVICORN = ["-m", "uvicorn", "--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"]


def _phases(argv: list[str], *, env: dict, cwd: Path, base: str, route: str, log: Path,
            checks: list[str], timeout: float = 120) -> dict[str, float]:
    """Seconds from starting `argv` to the first 200 of each GET in `checks`, then of POST
    `route` ("predict"), and the CPU seconds it (and its children) used by then ("cpu"); the
    process is stopped."""
    import httpx

    started = time.perf_counter()
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd, stdout=log.open("ab"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    found: dict[str, float] = {}
    try:
        with httpx.Client(timeout=5) as client:
            for name in [*checks, "predict"]:
                while name not in found:
                    if time.perf_counter() - started > timeout:
                        raise RuntimeError(f"no 200 from {name} within {timeout} s; see {log}")
                    try:
                        response = (client.post(base + route, json=RECORDS["species"])
                                    if name == "predict" else client.get(base + name))
                        if response.status_code == 200:
                            found[name] = time.perf_counter() - started
                            if name == "predict":  # the server's and its children's CPU
                                found["cpu"] = harness.tree_cpu(process.pid)
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.005)
        return found
    finally:
        os.killpg(process.pid, 15)
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="starts per server (median)")
    parser.add_argument("--baseline", metavar="REV", help="also hubship at this git revision")
    args = parser.parse_args()
    from hubship.services import Service, free_port, hub_service

    load_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hubship-cold-") as tmp:
        work = Path(tmp)
        assets = work / "real"
        print("training the penguin release ...", flush=True)
        harness.train(assets)
        baseline = (harness.baseline_checkout(args.baseline, work / "baseline")
                    if args.baseline else None)
        with hub_service(work / "hub", log_path=work / "hub.log") as hub:
            harness.publish(hub.url, REPO, assets, 1)
            env = {"HF_ENDPOINT": hub.url, "HF_REPO_ID": REPO, "MODEL_REVISION": "v1",
                   "HUBSHIP_HOME": str(work / "home"), "HUBSHIP_ASSETS_DIR": str(work / "none"),
                   "HF_HUB_DISABLE_TELEMETRY": "1"}
            servers = {
                "hubship": ([sys.executable, *UVICORN, "backend.main:app"], ROOT, env,
                            ["/health", "/ready"], "/models/species/predict"),
                "floor": ([sys.executable, *UVICORN, "peers:floor_app", "--factory"],
                          ROOT / "bench", {"BENCH_ASSETS": str(assets)}, ["/health"],
                          "/predict/species"),
            }
            if baseline is not None:
                servers["hubship-before"] = (
                    [sys.executable, *UVICORN, "backend.main:app"], baseline,
                    {**env, "PYTHONPATH": str(baseline / "src")}, ["/health", "/ready"],
                    "/models/species/predict")
            port = free_port()  # a first start downloads the release into the cache
            with Service("fill-cache", [sys.executable, *UVICORN, "backend.main:app", "--port",
                                        str(port)], url=f"http://127.0.0.1:{port}",
                         health_url=f"http://127.0.0.1:{port}/ready", env=env, cwd=ROOT,
                         log_path=work / "fill.log").start(timeout=180):
                pass
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            for _ in range(args.runs):
                for name, (argv, cwd, server_env, checks, route) in servers.items():
                    port = free_port()
                    runs[name].append(_phases(
                        [*argv, "--port", str(port)], env=server_env, cwd=cwd,
                        base=f"http://127.0.0.1:{port}", route=route, checks=checks,
                        log=work / f"cold-{name}.log"))
    _report(runs, load_at_start)


def _report(runs: dict[str, list[dict[str, float]]], load_at_start: tuple) -> None:
    medians, cpu = {}, {}
    for name, found in runs.items():
        phases = {phase: statistics.median(run[phase] for run in found) for phase in found[0]}
        medians[name] = phases["predict"]
        cpu[name] = phases.pop("cpu")
        steps, last = [], 0.0
        for phase, at in phases.items():
            steps.append(f"{phase} {at:.2f} s (+{at - last:.2f})")
            last = at
        each = ", ".join(f"{run['predict']:.2f}" for run in found)
        print(f"{name:15} {'; '.join(steps)}   predict runs: {each}")
    floor = medians["floor"]
    print(f"\nload average at start {load_at_start}, at end {os.getloadavg()}")
    for name, value in medians.items():
        if name != "floor":
            print(f"cold start {name}: {value:.2f} s vs floor {floor:.2f} s: "
                  f"{value / floor:.2f}x (goal <= 1.2x); CPU {cpu[name]:.2f} s vs "
                  f"{cpu['floor']:.2f} s: {cpu[name] / cpu['floor']:.2f}x")


if __name__ == "__main__":
    main()
