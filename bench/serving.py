"""Single-row predict throughput and latency: the hubship backend vs two hand-written references.

    .venv/bin/python bench/serving.py [--duration 10] [--connections 16 64]

Trains the real penguin release (`models/train.py`) into a temporary folder, then starts three
servers side by side, one uvicorn worker each, all loading the same joblib files:

  hubship   `uvicorn backend.main:app` (the bundled release; its Hub is a dead port)
  fastapi   a plain FastAPI endpoint with a hand-written pydantic body calling the model
  floor     a bare Starlette endpoint: orjson.loads, a DataFrame, the model, orjson.dumps

and drives each with `wrk` (a separate process, a Lua POST script) for `--duration` seconds per
model and connection count. `--light` swaps the models for small scaler + linear ones, so the
serving overhead (not the model) dominates. Prints requests/s, p50 and p99 and the ratios;
saves JSON under bench/results/. Needs `wrk` (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
RECORDS = {
    "species": {"island": "Torgersen", "sex": "male", "bill_length_mm": 39.1,
                "bill_depth_mm": 18.7, "flipper_length_mm": 181.0, "body_mass_g": 3750.0},
    "body_mass": {"species": "Gentoo", "island": "Biscoe", "sex": "female",
                  "bill_length_mm": 46.1, "bill_depth_mm": 13.2, "flipper_length_mm": 211.0},
}
LUA = """wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


# ---- the two references (run in their own uvicorn process through --factory) ---------------

class Penguin(BaseModel):
    island: str
    sex: str | None = None
    bill_length_mm: float | None = None
    bill_depth_mm: float | None = None
    flipper_length_mm: float | None = None
    body_mass_g: float | None = None


class Measurements(BaseModel):
    species: str
    island: str
    sex: str | None = None
    bill_length_mm: float
    bill_depth_mm: float
    flipper_length_mm: float


def _load_models() -> dict:
    import joblib

    assets = Path(os.environ["BENCH_ASSETS"])
    return {name: joblib.load(assets / "models" / f"{name}.joblib") for name in RECORDS}


def fastapi_app():
    """What a user would hand-write: pydantic bodies, a DataFrame, the model, a dict back."""
    import pandas as pd
    from fastapi import FastAPI

    models = _load_models()
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.post("/predict/species")
    async def species(penguin: Penguin) -> dict:
        model = models["species"]
        probabilities = model.predict_proba(pd.DataFrame([penguin.model_dump()]))[0]
        classes = model.classes_.tolist()
        best = int(probabilities.argmax())
        return {"label": classes[best],
                "probabilities": dict(zip(classes, probabilities.tolist(), strict=True))}

    @app.post("/predict/body_mass")
    async def body_mass(measurements: Measurements) -> dict:
        value = models["body_mass"].predict(pd.DataFrame([measurements.model_dump()]))[0]
        return {"value": float(value), "unit": "g"}

    return app


def floor_app():
    """The floor: bare Starlette, orjson in and out, the model called directly."""
    import orjson
    import pandas as pd
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    models = _load_models()
    columns = {name: list(model.feature_names_in_) for name, model in models.items()}
    classes = models["species"].classes_.tolist()

    async def health(request):
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def species(request):
        record = orjson.loads(await request.body())
        frame = pd.DataFrame([record], columns=columns["species"])
        probabilities = models["species"].predict_proba(frame)[0].tolist()
        best = max(range(len(classes)), key=probabilities.__getitem__)
        return Response(orjson.dumps({"label": classes[best], "probabilities": dict(
            zip(classes, probabilities, strict=True))}), media_type="application/json")

    async def body_mass(request):
        record = orjson.loads(await request.body())
        frame = pd.DataFrame([record], columns=columns["body_mass"])
        value = float(models["body_mass"].predict(frame)[0])
        return Response(orjson.dumps({"value": value, "unit": "g"}),
                        media_type="application/json")

    return Starlette(routes=[Route("/health", health), Route("/predict/species", species,
                                                             methods=["POST"]),
                             Route("/predict/body_mass", body_mass, methods=["POST"])])


# ---- the driver -------------------------------------------------------------------------------

def _train(assets: Path) -> None:
    env = {**os.environ, "HUBSHIP_ASSETS_DIR": str(assets)}
    subprocess.run([sys.executable, str(ROOT / "models" / "train.py")], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def _lighten(assets: Path) -> None:
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


def _servers(work: Path, assets: Path) -> dict:
    from hubship.services import Service, free_port

    base_env = {"BENCH_ASSETS": str(assets), "HUBSHIP_ASSETS_DIR": str(assets),
                "HF_ENDPOINT": f"http://127.0.0.1:{free_port()}", "HF_REPO_ID": "bench/penguins",
                "HUBSHIP_HOME": str(work / "home"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    specs = {
        "hubship": (["backend.main:app"], ROOT, "/ready", "/models/{model}/predict"),
        "fastapi": (["serving:fastapi_app", "--factory"], ROOT / "bench", "/health",
                    "/predict/{model}"),
        "floor": (["serving:floor_app", "--factory"], ROOT / "bench", "/health",
                  "/predict/{model}"),
    }
    servers = {}
    for name, (target, cwd, health, route) in specs.items():
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1",
                "--port", str(port), "--workers", "1", "--no-access-log", "--log-level",
                "warning"]
        service = Service(name, argv, url=url, health_url=url + health, env=base_env, cwd=cwd,
                          log_path=work / f"{name}.log")
        servers[name] = (service.start(timeout=120), route)
    return servers


def _wrk(url: str, body: str, connections: int, duration: int, script: Path) -> dict:
    script.write_text(LUA.format(body=body))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s",
         str(script), url], capture_output=True, text=True, check=True,
        timeout=duration + 60).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    requests, micros, p50, p99, errors = map(int, match.groups())
    return {"rps": requests / (micros / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
            "errors": errors, "requests": requests}


def _check_same_answers(servers: dict) -> None:
    import httpx

    for model, record in RECORDS.items():
        answers = {}
        for name, (service, route) in servers.items():
            response = httpx.post(service.url + route.format(model=model), json=record)
            response.raise_for_status()
            body = response.json()
            answers[name] = body.get("prediction", body)
        labels = {json.dumps(a.get("label", round(a.get("value", 0), 6))) for a in
                  answers.values()}
        if len(labels) != 1:
            raise SystemExit(f"the servers disagree on {model}: {answers}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--models", nargs="+", default=list(RECORDS), choices=list(RECORDS))
    parser.add_argument("--light", action="store_true",
                        help="serve small scaler + linear models instead of the trained ones")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    results = []
    with tempfile.TemporaryDirectory(prefix="hubship-bench-") as tmp:
        work = Path(tmp)
        assets = work / "assets"
        print("training the penguin release ...", flush=True)
        _train(assets)
        if args.light:
            _lighten(assets)
        servers = _servers(work, assets)
        try:
            _check_same_answers(servers)
            for model in args.models:
                body = json.dumps(RECORDS[model])
                for connections in args.connections:
                    for name, (service, route) in servers.items():
                        url = service.url + route.format(model=model)
                        _wrk(url, body, connections, 2, work / "warm.lua")  # warm-up
                        row = {"server": name, "model": model, "connections": connections,
                               **_wrk(url, body, connections, args.duration, work / "run.lua")}
                        results.append(row)
                        print(f"{model:9} c={connections:<3} {name:8} {row['rps']:8.0f} req/s "
                              f"p50 {row['p50_ms']:7.2f} ms  p99 {row['p99_ms']:7.2f} ms  "
                              f"errors {row['errors']}", flush=True)
        finally:
            for service, _ in servers.values():
                service.stop()
    _report(results, light=args.light)


def _report(results: list[dict], *, light: bool) -> None:
    print("\nratios (hubship vs floor and vs plain FastAPI):")
    keys = sorted({(r["model"], r["connections"]) for r in results})
    for model, connections in keys:
        row = {r["server"]: r for r in results
               if r["model"] == model and r["connections"] == connections}
        hub, floor, plain = row["hubship"], row["floor"], row["fastapi"]
        print(f"  {model:9} c={connections:<3} throughput {hub['rps'] / floor['rps']:.2f}x floor, "
              f"{hub['rps'] / plain['rps']:.2f}x fastapi; p99 {hub['p99_ms']:.1f} ms vs fastapi "
              f"{plain['p99_ms']:.1f} ms ({hub['p99_ms'] / plain['p99_ms']:.2f}x)")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"serving-{'light-' if light else ''}{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({"cpus": os.cpu_count(), "light": light, "results": results},
                               indent=2))
    print(f"\nsaved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
