"""Large files through the embedded hub's LFS path: the hub's peak memory and upload rate.

    .venv/bin/python bench/hub_lfs.py [--sizes 12M 300M 1G] [--dir /some/disk] [--chunk 1G]

For each size: a random file is written to `--dir`, copied once on the same disk (copy +
fsync, the floor), then uploaded to a fresh `hubship hub` (data dir on the same disk) with the
real client (`upload_folder`, the LFS path hubship's own clients take: HF_HUB_DISABLE_XET=1),
downloaded back (`hf_hub_download`) and checked by sha256. Reported side by side:
- the hub's peak RSS (VmHWM) over the whole round trip (goal: under 150 MB at any size);
- the hub's receive rate (the LFS PUTs, as its request log times them: streaming to disk,
  hashing, fsync) and the whole `upload_folder` (with the client's own sha256 pass) against
  the plain copy (goal: within 2x);
- the download time.
Saves JSON under bench/results/.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_DISABLE_XET"] = "1"  # as hubship sets it for a hub on this machine
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from huggingface_hub import HfApi, hf_hub_download  # noqa: E402

from hubship.manifest import sha256_file  # noqa: E402
from hubship.services import Service, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
UNITS = {"K": 1000, "M": 1000**2, "G": 1000**3}
BLOCK = 4 * 1024 * 1024


def parse_size(text: str) -> int:
    return int(float(text[:-1]) * UNITS[text[-1].upper()]) if text[-1].isalpha() else int(text)


def write_random(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        left = size
        while left:
            block = os.urandom(min(BLOCK, left))
            digest.update(block)
            handle.write(block)
            left -= len(block)
    return digest.hexdigest()



def plain_copy(source: Path, target: Path) -> float:
    started = time.perf_counter()
    shutil.copyfile(source, target)
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())
    return time.perf_counter() - started


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def drop_page_cache_of(path: Path) -> None:
    """Evict a file from the page cache, so every run reads it from the disk alike."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def one_size(size: int, work: Path, chunk: str | None) -> dict:
    folder = work / "upload"
    folder.mkdir()
    model = folder / "model.joblib"
    oid = write_random(model, size)
    drop_page_cache_of(model)
    copy_seconds = plain_copy(model, work / "copy.joblib")
    (work / "copy.joblib").unlink()
    drop_page_cache_of(model)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "hubship", "hub", "--port", str(port),
            "--data-dir", str(work / "hub-data")]
    if chunk:
        argv += ["--lfs-chunk-bytes", str(parse_size(chunk))]
    hub = Service("hub", argv, url=url, health_url=f"{url}/api/health",
                  log_path=work / "hub.log").start()
    try:
        api = HfApi(endpoint=url, token=False)
        api.create_repo("bench/models")
        started = time.perf_counter()
        api.upload_folder(repo_id="bench/models", folder_path=folder, commit_message="bench")
        upload_seconds = time.perf_counter() - started
        started = time.perf_counter()
        path = hf_hub_download("bench/models", "model.joblib", endpoint=url,
                               cache_dir=work / "cache")
        download_seconds = time.perf_counter() - started
        assert sha256_file(Path(path)) == oid, "the downloaded file differs"
        peak = peak_rss_mib(hub.process.pid)
    finally:
        hub.stop()
    log = (work / "hub.log").read_text()
    put_ms = sum(float(m) for m in re.findall(r"PUT /api/lfs-objects/\S+ 200 ([\d.]+)ms", log))
    complete_ms = sum(float(m) for m in
                      re.findall(r"POST /api/lfs-objects/\S+ 200 ([\d.]+)ms", log))
    receive_seconds = (put_ms + complete_ms) / 1000
    return {"size": size, "hub_peak_rss_mib": round(peak, 1),
            "copy_s": round(copy_seconds, 2), "receive_s": round(receive_seconds, 2),
            "upload_folder_s": round(upload_seconds, 2),
            "download_s": round(download_seconds, 2),
            "receive_vs_copy": round(receive_seconds / copy_seconds, 2),
            "upload_folder_vs_copy": round(upload_seconds / copy_seconds, 2),
            "puts": log.count("PUT /api/lfs-objects/"),
            "sha256_match": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["12M", "300M", "1G"])
    parser.add_argument("--dir", type=Path, default=None, help="disk to work on (default: tmp)")
    parser.add_argument("--chunk", help="the hub's --lfs-chunk-bytes (default: the hub's)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores (noisy if high)")
    print(f"{'size':>8} {'hub peak RSS':>13} {'copy':>7} {'hub receive':>12} {'x copy':>7} "
          f"{'upload_folder':>14} {'x copy':>7} {'download':>9} {'PUTs':>5}")
    results = []
    for text in args.sizes:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            result = one_size(parse_size(text), Path(tmp), args.chunk)
        results.append(result)
        print(f"{text:>8} {result['hub_peak_rss_mib']:>9.1f} MiB {result['copy_s']:>6.2f}s "
              f"{result['receive_s']:>11.2f}s {result['receive_vs_copy']:>6.2f}x "
              f"{result['upload_folder_s']:>13.2f}s {result['upload_folder_vs_copy']:>6.2f}x "
              f"{result['download_s']:>8.2f}s {result['puts']:>5}")
    out = ROOT / "bench" / "results" / "hub_lfs.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"load_average": load, "results": results}, indent=2))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
