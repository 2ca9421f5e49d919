"""Publish-to-every-replica time and failed requests: N backends behind Debian's nginx.

    .venv/bin/python bench/replicas.py [--replicas 3] [--poll 2] [--rounds 3]

What tests/e2e/test_replicas.py checks, measured (no make, no pytest): an embedded hub; the
real releases (`models/train.py` + `scripts/upload_models.py`, v1 then v2 after a data push,
as `tests/support/real_releases.py` makes them); N `uvicorn backend.main:app` replicas with
MODEL_POLL_SECONDS behind nginx (`tests/support/replica_fleet.py`), started together; a
steady predict load through nginx. Each round publishes a new release on a fresh repo
serving v1 (the real v2, replayed as its publish made it) and times, from the moment the
publish returned (commit and tag made), each replica's switch; then the hub is killed and
one replica killed and started again. Prints per round the arrival of each replica, the
last one, the load's requests and failures; the goal is every replica within one poll
interval (plus the reload itself) and 0 failures. nginx must be installed
(`scripts/install-system-deps.sh`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support
WORK = Path(tempfile.mkdtemp(prefix="hubship-bench-replicas-"))
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")  # the embedded hub speaks LFS, not Xet
os.environ["HF_HOME"] = str(WORK / "hf-home")
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.pop("HF_TOKEN", None)
# huggingface_hub's note on each holdout set's parquet file: the release holds them on purpose
warnings.filterwarnings("ignore", message="It seems that you are about to commit a data file")

from huggingface_hub import HfApi  # noqa: E402

from hubship.services import Service, hub_service  # noqa: E402
from tests.support.real_releases import (  # noqa: E402
    SPECIES_RECORD,
    RealReleases,
    make_real_releases,
    replay,
)
from tests.support.replica_fleet import (  # noqa: E402
    Fleet,
    SteadyLoad,
    find_nginx,
    time_to_converge,
    wait_until,
)


def one_round(number: int, releases: RealReleases, hub_url: str, nginx: str, *,
              replicas: int, poll: float, restart: bool, hub: Service) -> dict[str, Any]:
    api = HfApi(endpoint=hub_url, token="bench-token")
    repo = f"bench/round-{number}"
    v1 = replay(api, repo, releases[1])
    fleet = Fleet(WORK / f"round-{number}", replicas,
                  {"HF_ENDPOINT": hub_url, "HF_REPO_ID": repo, "MODEL_POLL_SECONDS": str(poll)})
    started = time.monotonic()
    try:
        fleet.start(nginx)
        start_seconds = time.monotonic() - started
        assert {v.get("sha") for v in fleet.versions()} == {v1}
        with SteadyLoad(fleet.url, "species", SPECIES_RECORD) as load:
            wait_until(lambda: load.total > 20, 30, "load through nginx")
            publish_started = time.monotonic()
            v2 = replay(api, repo, releases[2])
            publish_seconds = time.monotonic() - publish_started
            arrivals = time_to_converge(fleet, v2, timeout=10 * poll + 30)
            wait_until(lambda: load.shas[v2] > 20, 30, "predictions from v2")
        result: dict[str, Any] = {
            "start": start_seconds, "publish": publish_seconds, "arrivals": arrivals,
            "requests": load.total, "failures": len(load.failures),
            "first_failures": load.failures[:3]}
        if restart:
            with SteadyLoad(fleet.url, "species", SPECIES_RECORD) as load:
                wait_until(lambda: load.total > 20, 30, "load through nginx")
                hub.kill()
                fleet.replicas[0].kill()
                killed = time.monotonic()
                fleet.restart(0)
                back = time.monotonic() - killed
                wait_until(lambda: load.total > result["requests"] // 2, 30, "load")
            answer = fleet.versions()[0]
            result["restart"] = {"seconds": back, "source": answer.get("source"),
                                 "same_release": answer.get("sha") == v2,
                                 "requests": load.total, "failures": len(load.failures),
                                 "first_failures": load.failures[:3]}
        return result
    finally:
        fleet.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--poll", type=float, default=2.0, help="MODEL_POLL_SECONDS")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    nginx = find_nginx()
    if nginx is None:
        raise SystemExit("nginx is not installed: bash scripts/install-system-deps.sh")
    load_average = os.getloadavg()[0]
    print(f"{args.replicas} replicas, MODEL_POLL_SECONDS={args.poll}, {args.rounds} rounds; "
          f"{os.cpu_count()} cores, load average {load_average:.1f} at start; work in {WORK}")
    hub = hub_service(WORK / "hub-data", log_path=WORK / "hub.log").start(timeout=60)
    try:
        print("training and publishing the real v1 and v2 ...", flush=True)
        releases = make_real_releases(hub.url, "bench/penguins", WORK / "releases")
        lasts = []
        for number in range(1, args.rounds + 1):
            last_round = number == args.rounds
            result = one_round(number, releases, hub.url, nginx, replicas=args.replicas,
                               poll=args.poll, restart=last_round, hub=hub)
            lasts.append(result["arrivals"][-1])
            arrivals = ", ".join(f"{a:.2f}" for a in result["arrivals"])
            print(f"round {number}: replicas started in {result['start']:.1f} s; publish took "
                  f"{result['publish']:.2f} s; after it, replicas served it at {arrivals} s "
                  f"(last {result['arrivals'][-1]:.2f} s); {result['requests']} requests "
                  f"through nginx, {result['failures']} failed {result['first_failures']}")
            if "restart" in result:
                r = result["restart"]
                print(f"hub down, replica 0 killed and started again: ready in "
                      f"{r['seconds']:.1f} s from source {r['source']} (same release as the "
                      f"others: {r['same_release']}); {r['requests']} requests through nginx "
                      f"meanwhile, {r['failures']} failed {r['first_failures']}")
        print(f"publish to last replica: median {statistics.median(lasts):.2f} s, "
              f"max {max(lasts):.2f} s over {len(lasts)} rounds "
              f"(goal: one interval, {args.poll:.0f} s, plus the reload itself)")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
