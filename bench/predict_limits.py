"""What one predict request can cost the backend: its own latency, and /health's meanwhile.

    .venv/bin/python bench/predict_limits.py [--duration 8] [--clients 3] [--before REF]

Trains the real penguin release (`models/train.py`) into a temporary folder and starts the
backend (`uvicorn backend.main:app`, one worker, the bundled release; its Hub is a dead port).
With `--before REF` (a git commit, e.g. the one before the limits), a second backend runs that
commit's code side by side, on the same release. Then, per backend:

  idle      /health alone: the floor
  empty     --clients clients in a loop, each sending the 1 MB body of 333,000 empty records
            `[{},{},...]` (the review's request)
  wide      the same with one record of 90,000 unknown fields (just under 1 MB)
  worst     the same with the largest allowed request: 1,000 valid records

and meanwhile a client in a process of its own (so the senders' work never delays it) asks
/health in a loop. Prints each request's status and latency
(p50, max), /health's p50, p99 and max, and /health's max against the idle floor; saves JSON
under bench/results/. Goal: /health under 50 ms while the worst allowed request runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
RECORD = {"island": "Torgersen", "sex": "male", "bill_length_mm": 39.1, "bill_depth_mm": 18.7,
          "flipper_length_mm": 181.0, "body_mass_g": 3750.0}
BODIES = {
    "empty": b"[" + b",".join([b"{}"] * 333_000) + b"]",
    "wide": b"{" + b",".join(b'"x%d":0' % i for i in range(90_000)) + b"}",
    "worst": orjson.dumps([RECORD] * 1000),
}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _backends(work: Path, assets: Path, before: str | None) -> dict:
    from hubship.services import Service, free_port

    checkouts = {"now": ROOT}
    if before:
        checkout = work / "before"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(checkout), before],
                       cwd=ROOT, check=True)
        checkouts[f"before ({before})"] = checkout
    backends = {}
    for name, checkout in checkouts.items():
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {"HUBSHIP_ASSETS_DIR": str(assets), "HF_REPO_ID": "bench/penguins",
               "HF_ENDPOINT": f"http://127.0.0.1:{free_port()}", "HF_HUB_DISABLE_TELEMETRY": "1",
               "HUBSHIP_HOME": str(work / f"home-{port}"), "PYTHONPATH": str(checkout / "src")}
        service = Service(name, [sys.executable, "-m", "uvicorn", "backend.main:app", "--host",
                                 "127.0.0.1", "--port", str(port), "--no-access-log",
                                 "--log-level", "warning"],
                          url=url, health_url=f"{url}/ready", env=env, cwd=checkout,
                          log_path=work / f"backend-{port}.log")
        backends[name] = service.start(timeout=120)
    return backends


def _probe_health(url: str, duration: float) -> None:
    """Ask /health every 10 ms for `duration` s; print the latencies (s) as JSON."""
    seconds = []
    deadline = time.monotonic() + duration
    with httpx.Client(base_url=url, timeout=120) as http:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            http.get("/health").raise_for_status()
            seconds.append(time.perf_counter() - started)
            time.sleep(0.01)
    print(json.dumps(seconds))


def _scenario(url: str, body: bytes | None, clients: int, duration: float) -> dict:
    """`clients` clients posting `body` in a loop for `duration` s, /health probed meanwhile."""
    stop = threading.Event()
    answers: list[tuple[int, float, int]] = []

    def attack() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while not stop.is_set():
                started = time.perf_counter()
                answer = http.post("/models/species/predict", content=body,
                                   headers={"Content-Type": "application/json"})
                answers.append((answer.status_code, time.perf_counter() - started,
                                len(answer.content)))

    threads = [threading.Thread(target=attack) for _ in range(clients if body else 0)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the senders are under way
    probe = subprocess.run([sys.executable, __file__, "--probe", url, str(duration)],
                           capture_output=True, text=True, check=True)
    stop.set()
    for thread in threads:
        thread.join()
    health: list[float] = json.loads(probe.stdout)
    row = {"health_n": len(health), "health_p50_ms": median(health) * 1000,
           "health_p99_ms": _percentile(health, 0.99) * 1000, "health_max_ms": max(health) * 1000}
    if answers:
        latencies = [seconds for _, seconds, _ in answers]
        row |= {"requests": len(answers), "statuses": sorted({s for s, _, _ in answers}),
                "request_p50_ms": median(latencies) * 1000,
                "request_max_ms": max(latencies) * 1000,
                "answer_bytes": max(size for _, _, size in answers)}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per scenario")
    parser.add_argument("--clients", type=int, default=3, help="concurrent senders")
    parser.add_argument("--before", help="also run this git commit's backend, side by side")
    parser.add_argument("--probe", nargs=2, metavar=("URL", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        _probe_health(args.probe[0], float(args.probe[1]))
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="hubship-bench-limits-") as tmp:
        work = Path(tmp)
        assets = work / "assets"
        print("training the penguin release ...", flush=True)
        subprocess.run([sys.executable, str(ROOT / "models" / "train.py")], check=True,
                       env={**os.environ, "HUBSHIP_ASSETS_DIR": str(assets)},
                       stdout=subprocess.DEVNULL)
        backends = _backends(work, assets, args.before)
        try:
            for name, service in backends.items():
                for scenario in ("idle", "empty", "wide", "worst"):
                    row = {"backend": name, "scenario": scenario, **_scenario(
                        service.url, BODIES.get(scenario), args.clients, args.duration)}
                    results.append(row)
                    _print(row)
        finally:
            for service in backends.values():
                service.stop()
            if args.before:
                subprocess.run(["git", "worktree", "remove", "--force", str(work / "before")],
                               cwd=ROOT, check=False)
    _report(results, args)


def _print(row: dict) -> None:
    request = ""
    if "requests" in row:
        request = (f"{row['requests']:4d} x {row['statuses']} p50 {row['request_p50_ms']:8.1f} ms "
                   f"max {row['request_max_ms']:8.1f} ms answer {row['answer_bytes']:>9} B; ")
    print(f"{row['backend']:22} {row['scenario']:6} {request}/health p50 "
          f"{row['health_p50_ms']:6.1f} p99 {row['health_p99_ms']:7.1f} "
          f"max {row['health_max_ms']:7.1f} ms (n={row['health_n']})", flush=True)


def _report(results: list[dict], args: argparse.Namespace) -> None:
    print("\n/health max under load vs idle (the floor), per backend:")
    for name in dict.fromkeys(r["backend"] for r in results):
        rows = {r["scenario"]: r for r in results if r["backend"] == name}
        idle = rows["idle"]["health_max_ms"]
        print(f"  {name:22} " + "  ".join(
            f"{s} {rows[s]['health_max_ms']:.1f} ms ({rows[s]['health_max_ms'] / idle:.1f}x)"
            for s in ("empty", "wide", "worst")) + f"  (idle max {idle:.1f} ms)")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"predict-limits-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({"cpus": os.cpu_count(), "load": os.getloadavg(),
                                "args": vars(args), "results": results}, indent=2))
    print(f"\nsaved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
