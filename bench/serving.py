"""Predict throughput, latency and CPU: hubship beside LitServe and hand-written references.

    .venv/bin/python bench/serving.py [--duration 10] [--baseline REV] [--models species]
        [--servers hubship hubship-before ...] [--throughput-only]

Trains the real penguin release (`models/train.py`) and a light copy (small scaler + linear
models, so the serving overhead shows), publishes both on an embedded hub (v1 real, v2 light),
and for each kind starts, side by side, one server process each (`bench/peers.py`,
`bench/litserve_server.py`):

  hubship           `uvicorn backend.main:app`, one inference process (the default)
  hubship-thread    the same with HUBSHIP_INFERENCE_WORKERS=0 (inference in a thread)
  hubship-before    with --baseline REV: hubship at that git revision (e.g. before the engine)
  litserve(-batch)  LitServe 0.2.19, in its own venv under ~/.cache/hubship-bench; batched:
                    max_batch_size 64, batch_timeout 5 ms, one DataFrame and one call per batch
  fastapi, floor    a plain FastAPI endpoint; a bare Starlette one (orjson, DataFrame, model)

and drives each with wrk (installed from Debian when missing) at each connection count. Then,
in the same run: the in-process model cost (ms per call at 1 and 64 rows), /health p99 while
predict runs at 64 connections, cold start (process start to the first predict 200; the
release in the backend's Hub cache), and reloads under load (pinning v1/v2 back and forth).
Prints every figure and the issue's goals as ratios; saves JSON under bench/results/.
Ctrl-C or a SIGTERM stops every server it started; so does its death by SIGKILL (each server
asks the kernel for a SIGTERM then: `Service(die_with_parent=True)`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_XET", "1")  # the embedded hub speaks LFS, not Xet

import harness  # noqa: E402
from peers import RECORDS  # noqa: E402

ROOT = harness.ROOT
ADMIN = "bench-admin-token"
REPO = "bench/penguins"


def _servers(work: Path, hub_url: str, kind: str, assets: Path, baseline: Path | None,
             only: list[str] | None) -> dict:
    from hubship.services import Service, free_port

    revision = "v1" if kind == "real" else "v2"
    hub_env = {"HF_ENDPOINT": hub_url, "HF_REPO_ID": REPO, "MODEL_REVISION": revision,
               "HUBSHIP_HOME": str(work / "home"), "ADMIN_TOKEN": ADMIN,
               "HUBSHIP_ASSETS_DIR": str(work / "none"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    uvicorn = ["-m", "uvicorn", "--host", "127.0.0.1", "--no-access-log", "--log-level",
               "warning"]
    litserve = str(harness.litserve_python())
    specs = {
        "hubship": ([sys.executable, *uvicorn, "backend.main:app"], ROOT, hub_env, "/ready",
                    "/models/{model}/predict"),
        "hubship-thread": ([sys.executable, *uvicorn, "backend.main:app"], ROOT,
                           {**hub_env, "HUBSHIP_INFERENCE_WORKERS": "0"}, "/ready",
                           "/models/{model}/predict"),
        "litserve": ([litserve, "litserve_server.py", str(assets)], ROOT / "bench", {},
                     "/health", "/predict/{model}"),
        "litserve-batch": ([litserve, "litserve_server.py", str(assets), "--batched"],
                           ROOT / "bench", {}, "/health", "/predict/{model}"),
        "fastapi": ([sys.executable, *uvicorn, "peers:fastapi_app", "--factory"],
                    ROOT / "bench", {"BENCH_ASSETS": str(assets)}, "/health",
                    "/predict/{model}"),
        "floor": ([sys.executable, *uvicorn, "peers:floor_app", "--factory"], ROOT / "bench",
                  {"BENCH_ASSETS": str(assets)}, "/health", "/predict/{model}"),
    }
    if baseline is not None:
        specs["hubship-before"] = ([sys.executable, *uvicorn, "backend.main:app"], baseline,
                                   {**hub_env, "PYTHONPATH": str(baseline / "src")}, "/ready",
                                   "/models/{model}/predict")
    servers = {}
    try:
        for name, (argv, cwd, env, health, route) in specs.items():
            if only and name not in only:
                continue
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            argv = [*argv, str(port)] if "litserve" in name else [*argv, "--port", str(port)]
            # die_with_parent: each gets a SIGTERM when this script dies, even by SIGKILL
            service = Service(name, argv, url=url, health_url=url + health, env=env, cwd=cwd,
                              log_path=work / f"{kind}-{name}.log", die_with_parent=True)
            servers[name] = {"service": service, "route": route,
                             "argv": argv, "env": env, "cwd": cwd}
            service.start(timeout=180)
    except BaseException:  # e.g. Ctrl-C or SIGTERM while one starts: stop those started
        harness.stop_all([server["service"] for server in servers.values()])
        raise
    return servers


def _check_same_answers(servers: dict, models: list[str]) -> None:
    import httpx

    for model in models:
        labels = {}
        for name, server in servers.items():
            response = httpx.post(server["service"].url + server["route"].format(model=model),
                                  json=RECORDS[model], timeout=30)
            response.raise_for_status()
            body = response.json()
            answer = body.get("prediction", body)
            labels[name] = answer.get("label", round(answer.get("value", 0), 6))
        if len(set(labels.values())) != 1:
            raise SystemExit(f"the servers disagree on {model}: {labels}")


def _batch_stats(url: str) -> tuple[float, float, float]:
    """Rows and model calls so far, and the model's CPU seconds (measured in the workers)."""
    import httpx

    text = httpx.get(url + "/metrics", timeout=10).text
    values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
              if line.startswith(("hubship_batch_rows_", "hubship_model_seconds_total"))}
    model = sum(v for k, v in values.items() if k.startswith("hubship_model_seconds_total"))
    return (values.get("hubship_batch_rows_sum", 0.0),
            values.get("hubship_batch_rows_count", 0.0), model)


def _throughput(servers: dict, kind: str, models: list[str], connections: list[int],
                duration: int, work: Path) -> list[dict]:
    rows = []
    for model in models:
        body = json.dumps(RECORDS[model])
        for count in connections:
            for name, server in servers.items():
                service = server["service"]
                url = service.url + server["route"].format(model=model)
                harness.wrk(url, count, 2, work / "warm.lua", body)
                batches = name.startswith("hubship")  # a baseline without the metric: 0
                before = _batch_stats(service.url) if batches else None
                row = {"kind": kind, "model": model, "connections": count, "server": name,
                       **harness.wrk(url, count, duration, work / "run.lua", body,
                                     pid=service.process.pid)}
                if before:
                    rows_sum, calls, model_seconds = (a - b for a, b in zip(
                        _batch_stats(service.url), before, strict=True))
                    row["mean_batch"] = rows_sum / calls if calls else 0.0
                    if model_seconds:  # a baseline without the metric: 0
                        row["model_cpu_ms"] = model_seconds * 1000 / max(row["requests"], 1)
                rows.append(row)
                print(f"{kind:5} {model:9} c={count:<3} {name:15} {row['rps']:7.0f} req/s  "
                      f"p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  "
                      f"cpu {row['cpu_ms']:.2f} ms/req  errors {row['errors']}"
                      + (f"  batch {row['mean_batch']:.1f}" if "mean_batch" in row else ""),
                      flush=True)
    return rows


def _framework_cpu(servers: dict, duration: int, work: Path, in_process: dict,
                   rounds: int = 3) -> dict:
    """HTTP + framework CPU per request (light model, 64 connections): hubship's predict and
    the floor's echo route (its species route without the model) in turns, `rounds` times,
    medians. One run of each swings by a fifth with the machine's other load; turns and
    medians keep the ratio steady. hubship's model CPU is taken out as measured where it
    ran (hubship_model_seconds_total), and as the in-process figure at its rows per call."""
    body = json.dumps(RECORDS["species"])
    floor = servers["floor"]["service"]
    hub = servers.get("hubship")
    turns: dict[str, list[float]] = {"echo": [], "measured": [], "estimated": [], "http": []}
    for _ in range(rounds):
        if hub:
            service = hub["service"]
            before = _batch_stats(service.url)
            run = harness.wrk(service.url + hub["route"].format(model="species"), 64, duration,
                              work / "run.lua", body, pid=service.process.pid)
            rows, calls, model_seconds = (a - b for a, b in zip(
                _batch_stats(service.url), before, strict=True))
            requests = max(run["requests"], 1)
            turns["measured"].append(run["cpu_ms"] - model_seconds * 1000 / requests)
            turns["estimated"].append(run["cpu_ms"] - model_ms_per_request(
                in_process, rows / calls if calls else 1.0))
            turns["http"].append(run["http_process_cpu_ms"])
        echo = harness.wrk(floor.url + "/echo/species", 64, duration, work / "echo.lua", body,
                           pid=floor.process.pid)
        turns["echo"].append(echo["cpu_ms"])
        print(f"framework CPU turn: echo {echo['cpu_ms']:.3f} ms ({echo['rps']:.0f} req/s)"
              + (f", hubship {turns['measured'][-1]:.3f} ms (HTTP process "
                 f"{turns['http'][-1]:.3f})" if hub else ""), flush=True)
    return {name: statistics.median(values) for name, values in turns.items() if values} | {
        "turns": turns}


def _health_under_load(servers: dict, names: list[str], duration: int, work: Path) -> dict:
    """/health p99 (one connection) while predict runs at 64 connections."""
    found = {}
    for name in names:
        server = servers[name]
        url = server["service"].url
        load = harness.wrk_start(url + server["route"].format(model="species"), 64,
                                 duration + 2, work / "load.lua", json.dumps(RECORDS["species"]))
        time.sleep(1)
        health = harness.wrk(url + "/health", 1, duration, work / "health.lua")
        harness.wrk_result(load)
        # no answer at all within wrk's 10 s timeout counts as 10 s
        found[name] = health["p99_ms"] if health["requests"] else 10_000.0
        print(f"/health under load  {name:15} p99 {found[name]:.1f} ms "
              f"(p50 {health['p50_ms']:.1f}, {health['requests']} answers)", flush=True)
    return found


def _cold_starts(servers: dict, names: list[str], work: Path, tries: int = 3) -> dict:
    """Process start to the first predict 200, alternating servers, median of `tries`."""
    from hubship.services import free_port

    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(tries):
        for name in names:
            server = servers[name]
            port = free_port()
            argv = [a for a in server["argv"]]
            argv[argv.index("--port") + 1] = str(port)
            route = server["route"].format(model="species")
            times[name].append(harness.time_until_ok(
                argv, env=server["env"], cwd=server["cwd"], body=RECORDS["species"],
                url=f"http://127.0.0.1:{port}{route}", log=work / f"cold-{name}.log"))
    found = {name: statistics.median(values) for name, values in times.items()}
    for name, value in found.items():
        print(f"cold start  {name:15} {value:.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in times[name])})", flush=True)
    return found


def _reloads_under_load(server: dict, duration: int, work: Path) -> dict:
    """Reloads pinning v2, v1, v2, ... while predict runs at 64 connections."""
    import httpx

    url = server["service"].url
    load = harness.wrk_start(url + server["route"].format(model="species"), 64, duration,
                             work / "reload.lua", json.dumps(RECORDS["species"]))
    outcomes, stop = [], threading.Event()
    deadline = time.monotonic() + duration - 1

    time.sleep(0.5)
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        pin = "v2"
        while time.monotonic() < deadline and not stop.is_set():
            outcomes.append(client.post("/admin/reload", json={"revision": pin}).json()["status"])
            pin = "v1" if pin == "v2" else "v2"
            time.sleep(0.25)
        client.post("/admin/reload", json={"revision": "v1"})
    result = harness.wrk_result(load)
    found = {"reloads": outcomes.count("reloaded"), "failed_requests": result["errors"],
             "requests": result["requests"], "p99_ms": result["p99_ms"]}
    print(f"reloads under load: {found['reloads']} reloads, {found['requests']} requests, "
          f"{found['failed_requests']} failed, p99 {found['p99_ms']:.1f} ms", flush=True)
    return found


SIZES = (1, 8, 16, 32, 64)


def _in_process(assets: Path) -> dict:
    """The species model alone: CPU ms per call at 1 to 64 rows, and rows/s at 64 rows."""
    import joblib
    import pandas as pd
    import sklearn

    sklearn.set_config(assume_finite=True)
    model = joblib.load(assets / "models" / "species.joblib")
    columns = list(model.feature_names_in_)
    row = [RECORDS["species"].get(c) for c in columns]
    found = {}
    for rows in SIZES:
        frame_rows = [row] * rows
        for _ in range(20):
            model.predict_proba(pd.DataFrame(frame_rows, columns=columns))
        calls, started = 0, time.process_time()  # CPU time: other processes do not count
        while time.process_time() - started < 1:
            model.predict_proba(pd.DataFrame(frame_rows, columns=columns))
            calls += 1
        found[f"ms_per_call_{rows}"] = (time.process_time() - started) * 1000 / calls
    found["rows_per_s_64"] = 64_000 / found["ms_per_call_64"]
    return found


def model_ms_per_request(in_process: dict, rows_per_call: float) -> float:
    """The model's own cost per single-record request at this many rows per call
    (interpolated between the measured sizes)."""
    points = [(n, in_process[f"ms_per_call_{n}"]) for n in SIZES]
    rows_per_call = min(max(rows_per_call, 1.0), 64.0)
    for (n0, t0), (n1, t1) in zip(points, points[1:], strict=False):
        if rows_per_call <= n1:
            call = t0 + (t1 - t0) * (rows_per_call - n0) / (n1 - n0)
            return call / rows_per_call
    return points[-1][1] / 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--models", nargs="+", default=["species"], choices=list(RECORDS))
    parser.add_argument("--baseline", metavar="REV",
                        help="also run hubship at this git revision (e.g. before the engine)")
    parser.add_argument("--servers", nargs="+", metavar="NAME",
                        help="run only these servers (default: all), e.g. a quick before/after: "
                        "--baseline main --servers hubship hubship-before")
    parser.add_argument("--throughput-only", action="store_true",
                        help="skip /health under load, reloads and cold starts")
    args = parser.parse_args()
    harness.stop_like_ctrl_c()
    harness.ensure_wrk()
    if not args.servers or any("litserve" in name for name in args.servers):
        harness.litserve_python()
    load_at_start = os.getloadavg()

    from hubship.services import hub_service

    results: dict = {"cpus": os.cpu_count(), "load_at_start": load_at_start, "runs": []}
    with tempfile.TemporaryDirectory(prefix="hubship-bench-") as tmp:
        work = Path(tmp)
        baseline = (harness.baseline_checkout(args.baseline, work / "baseline")
                    if args.baseline else None)
        kinds = {"real": work / "real", "light": work / "light"}
        print("training the penguin release ...", flush=True)
        harness.train(kinds["real"])
        harness.train(kinds["light"])
        harness.lighten(kinds["light"])
        with hub_service(work / "hub", log_path=work / "hub.log", die_with_parent=True) as hub:
            harness.publish(hub.url, REPO, kinds["real"], 1)
            harness.publish(hub.url, REPO, kinds["light"], 2)
            for kind, assets in kinds.items():
                results[f"in_process_{kind}"] = _in_process(assets)
                print(f"in process ({kind}): {results[f'in_process_{kind}']}", flush=True)
                servers = _servers(work, hub.url, kind, assets, baseline, args.servers)
                try:
                    _check_same_answers(servers, args.models)
                    results["runs"] += _throughput(servers, kind, args.models,
                                                   args.connections, args.duration, work)
                    if kind == "light" and "floor" in servers:
                        results["framework_cpu"] = _framework_cpu(servers, args.duration,
                                                                  work, results["in_process_light"])
                    if kind == "real" and not args.throughput_only:
                        names = [n for n in ("hubship", "hubship-thread", "hubship-before",
                                             "litserve-batch", "floor") if n in servers]
                        results["health_p99_ms"] = _health_under_load(
                            servers, names, args.duration, work)
                        results["reload"] = _reloads_under_load(
                            servers["hubship"], args.duration, work)
                        names = [n for n in ("hubship", "hubship-before", "floor")
                                 if n in servers]
                        for server in servers.values():  # cold starts run alone
                            server["service"].stop()
                        results["cold_start_s"] = _cold_starts(servers, names, work)
                finally:
                    harness.stop_all([server["service"] for server in servers.values()])
    results["load_at_end"] = os.getloadavg()
    _report(results)


def _report(results: dict) -> None:
    runs = {(r["kind"], r["model"], r["connections"], r["server"]): r for r in results["runs"]}

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "n/a"

    print(f"\nload average at start {results['load_at_start']}, at end {results['load_at_end']}")
    print("\ngoals (one run):")
    real64 = {s: r for (k, m, c, s), r in runs.items() if (k, m, c) == ("real", "species", 64)}
    hub, lsb = real64.get("hubship"), real64.get("litserve-batch")
    if hub and lsb:
        print(f"  real c=64 throughput {ratio(hub['rps'], lsb['rps'])} litserve-batch "
              f"(goal >= 1.5x); p99 {hub['p99_ms']:.1f} vs {lsb['p99_ms']:.1f} ms "
              "(goal <=)")
        if "hubship-before" in real64:
            before = real64["hubship-before"]
            print(f"  real c=64 p99 {ratio(before['p99_ms'], hub['p99_ms'])} shorter than "
                  f"hubship-before ({before['p99_ms']:.1f} ms; goal >= 7x), throughput "
                  f"{ratio(hub['rps'], before['rps'])}")
        thread = real64.get("hubship-thread")
        if thread:
            print(f"  thread vs process: {thread['rps']:.0f} vs {hub['rps']:.0f} req/s, "
                  f"p99 {thread['p99_ms']:.1f} vs {hub['p99_ms']:.1f} ms")
    light = results["in_process_light"]
    overhead = {}
    for server in ("hubship", "floor", "hubship-before", "fastapi", "hubship-thread"):
        run = runs.get(("light", "species", 64, server))
        if run:
            per_call = run.get("mean_batch") or 1.0
            overhead[server] = run["cpu_ms"] - model_ms_per_request(light, per_call)
            print(f"  HTTP + framework CPU per request ({server}, light, c=64): "
                  f"{overhead[server]:.3f} ms (total {run['cpu_ms']:.3f}, model at "
                  f"{per_call:.1f} rows per call {model_ms_per_request(light, per_call):.3f}; "
                  f"the HTTP process alone {run['http_process_cpu_ms']:.3f})")
    framework = results.get("framework_cpu", {})
    if "measured" in framework:
        echo = framework["echo"]
        print(f"  HTTP + framework CPU (light, c=64, medians of {len(framework['turns']['echo'])} "
              f"turns): hubship {framework['measured']:.3f} ms vs the floor's echo "
              f"{echo:.3f} ms: {ratio(framework['measured'], echo)} (goal <= 1.2x; the "
              "model's CPU measured where it ran, hubship_model_seconds_total); with the "
              f"model at its in-process cost instead {framework['estimated']:.3f} ms: "
              f"{ratio(framework['estimated'], echo)}; hubship's HTTP process alone "
              f"{framework['http']:.3f} ms: {ratio(framework['http'], echo)}")
    light16 = {s: r for (k, m, c, s), r in runs.items() if (k, m, c) == ("light", "species", 16)}
    if "hubship" in light16:
        hub16 = light16["hubship"]
        for peer, goal in (("floor", 0.8), ("litserve", 2.0), ("litserve-batch", 2.0)):
            if peer in light16:
                print(f"  light c=16 throughput {ratio(hub16['rps'], light16[peer]['rps'])} "
                      f"{peer} (goal >= {goal}x)")
    for name, p99 in results.get("health_p99_ms", {}).items():
        print(f"  /health p99 under predict load ({name}): {p99:.1f} ms (goal < 20 ms)")
    cold = results.get("cold_start_s", {})
    if "hubship" in cold and "floor" in cold:
        print(f"  cold start {cold['hubship']:.2f} s vs floor {cold['floor']:.2f} s: "
              f"{ratio(cold['hubship'], cold['floor'])} (goal <= 1.2x)")
    if "reload" in results:
        print(f"  reload under load: {results['reload']['failed_requests']} failed requests "
              f"over {results['reload']['reloads']} reloads (goal 0)")
    real = results["in_process_real"]
    print(f"  in process, real: {real['ms_per_call_1']:.2f} ms for 1 row, "
          f"{real['ms_per_call_64']:.2f} ms for 64 rows: {real['rows_per_s_64']:.0f} rows/s; "
          f"light: {light['rows_per_s_64']:.0f} rows/s")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"serving-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\nsaved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt as stopped:  # Ctrl-C or SIGTERM (`stop_like_ctrl_c`)
        sys.exit(f"bench/serving.py: {stopped or 'interrupted'}; the servers it started are "
                 "stopped")
