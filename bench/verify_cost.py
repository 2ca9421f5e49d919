"""What signature verification adds to a reload of the penguin release, side by side.

    .venv/bin/python bench/verify_cost.py [--reloads 20]

Trains the real penguin release (`models/train.py`) twice (the second with another ridge
penalty, so two releases with different files), publishes both signed with the real publisher
to an embedded hub on a free loopback port, then starts two real backends (uvicorn) on that
hub: one with HUBSHIP_VERIFY_KEY, one without. It then alternates pinned reloads
(`POST /admin/reload {"revision": "v1"}`, then v2, ...) on the two backends, interleaved so
load on the machine hits both alike, and times each reload as a client sees it. A pinned
reload to another release downloads nothing new after the first round (the backend's cache
holds both), so it is: resolve on the Hub, snapshot check, verify (or not), hash, unpickle,
build the request models, swap.

Also times `hubship.signing.verify_release` alone in this process on a snapshot of the
release (median), and the one-off import of model-signing that a verifying backend pays on
its first load. Prints medians and the ratio; the goal is verification < 10% of a reload.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
ADMIN_TOKEN = "bench-admin-token"


def train(out: Path, *, alpha: str | None = None) -> Path:
    script = ROOT / "models" / "train.py"
    if alpha is not None:  # a copy of the training script with another ridge penalty
        text = re.sub(r"^BODY_MASS_ALPHA = .*$", f"BODY_MASS_ALPHA = {alpha}",
                      script.read_text(), flags=re.M)
        script = out.parent / "train_variant.py"
        script.write_text(text.replace("ROOT = Path(__file__).resolve().parents[1]",
                                       f"ROOT = Path({str(ROOT)!r})"))
    subprocess.run([sys.executable, str(script)], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "HUBSHIP_ASSETS_DIR": str(out)})
    return out


def publish_both(hub_url: str, repo_id: str, releases: list[Path], key, cache: Path) -> None:
    from huggingface_hub import HfApi
    from rich.console import Console

    from hubship.publish import publish
    from hubship.registry import Registry
    from hubship.release import Trust

    api = HfApi(endpoint=hub_url, token="bench")
    api.create_repo(repo_id, exist_ok=True)
    registry = Registry(api, repo_id, cache_dir=cache)
    for release in releases:
        publish(registry, release, force=True, console=Console(quiet=True),
                trust=Trust(key.public), signing_key=key)


def reload_seconds(url: str, revision: str) -> float:
    started = time.perf_counter()
    answer = httpx.post(f"{url}/admin/reload", json={"revision": revision}, timeout=120,
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    seconds = time.perf_counter() - started
    if answer.status_code != 200 or answer.json().get("status") != "reloaded":
        raise SystemExit(f"reload of {revision} at {url} failed: {answer.text}")
    return seconds


def import_seconds() -> float:
    """What a verifying backend pays once, on its first load: importing model-signing (and
    sigstore), measured in a fresh process."""
    code = ("import time; t = time.perf_counter(); import model_signing.verifying; "
            "print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True)
    return float(done.stdout)


def verify_alone(snapshot: Path, key, runs: int) -> float:
    """The median of `runs` calls of `verify_release` on a downloaded release."""
    from hubship.signing import verify_release

    verify_release(snapshot, key.public, origin="bench")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        verify_release(snapshot, key.public, origin="bench")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=20, help="reloads per backend")
    args = parser.parse_args()

    from hubship.services import Service, free_port, hub_service
    from hubship.signing import generate, write_key_pair

    with tempfile.TemporaryDirectory(prefix="hubship-bench-") as tmp:
        work = Path(tmp)
        key = generate()
        public = write_key_pair(work / "signing.pem", key)
        releases = [train(work / "v1"), train(work / "v2", alpha="0.5")]
        hub = hub_service(work / "hub", port=free_port(), log_path=work / "hub.log").start()
        backends: dict[str, Service] = {}
        try:
            repo_id = "bench/penguins"
            publish_both(hub.url, repo_id, releases, key, work / "publisher-cache")
            for name, extra in (("verifying", {"HUBSHIP_VERIFY_KEY": str(public)}),
                                ("not verifying", {})):
                port = free_port()
                url = f"http://127.0.0.1:{port}"
                backends[name] = Service(
                    name, [sys.executable, "-m", "uvicorn", "backend.main:app", "--host",
                           "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                    url=url, health_url=f"{url}/ready", cwd=ROOT,
                    env={"HF_ENDPOINT": hub.url, "HF_REPO_ID": repo_id,
                         "ADMIN_TOKEN": ADMIN_TOKEN, "HUBSHIP_HOME": str(work / name),
                         "HUBSHIP_ASSETS_DIR": str(work / "none"),
                         "HF_HUB_DISABLE_TELEMETRY": "1", **extra},
                    log_path=work / f"{name}.log",
                ).start(timeout=120)
            served = httpx.get(f"{backends['verifying'].url}/version").json()
            assert served["verified"] is True, served

            times: dict[str, list[float]] = {name: [] for name in backends}
            for name in backends:  # warm-up: both releases downloaded into each cache
                for revision in ("v1", "v2"):
                    reload_seconds(backends[name].url, revision)
            for round_ in range(args.reloads):
                revision = "v1" if round_ % 2 == 0 else "v2"
                order = list(backends) if round_ % 4 < 2 else list(reversed(backends))
                for name in order:
                    times[name].append(reload_seconds(backends[name].url, revision))

            from huggingface_hub import HfApi

            from hubship.registry import Registry

            snapshot = Registry(HfApi(endpoint=hub.url, token="bench"), repo_id,
                                cache_dir=work / "bench-cache").fetch("v2")
            alone = verify_alone(snapshot, key, runs=50)
            first = statistics.median(import_seconds() for _ in range(3))
        finally:
            for service in backends.values():
                service.stop()
            hub.stop()

    with_key = statistics.median(times["verifying"])
    without = statistics.median(times["not verifying"])
    added = with_key - without
    print(f"reloads of the penguin release (pinned, alternating v1/v2), {args.reloads} per "
          "backend, interleaved:")
    for name, values in times.items():
        print(f"  {name:14s} median {statistics.median(values) * 1000:7.1f} ms  "
              f"min {min(values) * 1000:7.1f} ms  max {max(values) * 1000:7.1f} ms")
    print(f"verification adds {added * 1000:+.1f} ms to a reload: "
          f"{added / without * 100:+.1f}% of the unverified reload (goal < 10%)")
    print(f"verify_release alone (a downloaded snapshot, 5 signed files): median "
          f"{alone * 1000:.2f} ms = {alone / without * 100:.1f}% of a reload")
    print(f"once per process, on the first load: importing model-signing takes "
          f"{first * 1000:.0f} ms (median of 3 fresh processes)")


if __name__ == "__main__":
    main()
