"""How long `hubship hub` takes from spawn to its first 200 on /api/health.

    .venv/bin/python bench/hub_startup.py [--runs 5]

Each run starts the hub on a free loopback port with a fresh data dir, polls the health
route every 10 ms, and stops the hub. Prints every run and the median.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from hubship.services import free_port


def one_start(data_dir: Path, timeout: float = 30.0) -> float:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/health"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "hubship", "hub", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < timeout:
            try:
                if httpx.get(url, timeout=0.5).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise SystemExit(f"hub exited with code {process.returncode}")
            time.sleep(0.01)
        raise SystemExit(f"hub did not answer within {timeout} s")
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            seconds = one_start(Path(tmp) / f"hub-{run}")
            times.append(seconds)
            print(f"run {run + 1}: {seconds:.3f} s")
    print(f"hub startup (spawn -> first 200 on /api/health): median {statistics.median(times):.3f}"
          f" s, min {min(times):.3f} s, max {max(times):.3f} s over {len(times)} runs")


if __name__ == "__main__":
    main()
