"""The inference engine in process (TestClient, the bundled release): concurrent requests share
one model call, a record the model rejects fails only its request, the queue and the deadline
bound the wait, and a dead inference process is restarted with its requests answered 503."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import pickle
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType
from typing import Any

import joblib
import orjson
import pytest
from fastapi.testclient import TestClient
from odd_models import NaNOn, RaisesOn, Slow, SlowToLoad, TwoPerRecord

from hubship.config import Settings
from hubship.model_files import ModelFile, load_checked
from hubship.services import free_port
from hubship.serving import routes_models
from hubship.serving.app import create_app
from hubship.serving.runner import JobFailed
from tests.support.backend import GatedEstimator, serving, wait_for
from tests.support.release_builder import BACKEND_MODELS, GOOD_PENGUIN, build_release

PREDICT = "/models/species/predict"


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("assets")
    build_release(path, BACKEND_MODELS, release=3)
    return path


@pytest.fixture(autouse=True)
def odd_models_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inference processes started by these tests can unpickle `odd_models` classes."""
    here = str(Path(__file__).parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH")) if p))


def app_serving(tmp_path: Path, assets: Path, **extra: Any):
    """The app on the bundled release (its Hub is a closed port)."""
    return create_app(Settings(
        hf_endpoint=f"http://127.0.0.1:{free_port()}", hf_repo_id="team/penguins",
        hubship_home=tmp_path / "home", HUBSHIP_ASSETS_DIR=assets, **extra))


def serve_model(client: TestClient, estimator_of: Any, folder: Path) -> None:
    """Serve the current release with species' estimator replaced by `estimator_of(fitted)`,
    the way a reload does (`_activate`, then the swap). Inference processes load it from a
    model file written to `folder`, hashed and unpickled there as a release's; a thread
    worker runs the object itself (the backend unpickles a release then)."""
    app = client.app
    reloader = app.state.reloader
    model_set = app.state.serving.active.model_set
    species = model_set.models["species"]
    # with inference processes the backend holds no estimator: load the verified file here
    odd = estimator_of(species.estimator or load_checked(species.file, "species"))
    if app.state.engine.count == 0:
        species = dataclasses.replace(species, estimator=odd)
    else:
        path = folder / "species.joblib"
        joblib.dump(odd, path)
        species = dataclasses.replace(species, file=ModelFile(
            str(path), hashlib.sha256(path.read_bytes()).hexdigest(), ()))
    odd_set = dataclasses.replace(model_set, models=MappingProxyType(
        {**model_set.models, "species": species}))

    async def swap() -> None:
        reloader._install(await reloader._activate(odd_set))

    client.portal.call(swap)


def submit_together(client: TestClient, records: list[dict]) -> list[Any]:
    """Queue one request per record in the same instant (one event loop step); the answers."""
    app = client.app

    async def submit() -> list[Any]:
        active = app.state.serving.active
        species = active.predictors["species"]
        futures = [app.state.engine.submit(active.key, species, species.rows(
            species.parser.parse(orjson.dumps(record))[0])) for record in records]
        return [await future for future in futures]

    return client.portal.call(submit)


def metric(client: TestClient, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_concurrent_requests_share_one_model_call(tmp_path, assets):
    settings = {"HUBSHIP_INFERENCE_WORKERS": "0"}  # a thread: the test holds the model
    with serving(app_serving(tmp_path, assets, **settings)) as client, \
            ThreadPoolExecutor(21) as pool:
        expected = client.post(PREDICT, json=GOOD_PENGUIN).json()["prediction"]
        gate = GatedEstimator(client.app.state.serving.active.predictors["species"].estimator)
        serve_model(client, lambda _: gate, tmp_path)

        first = pool.submit(client.post, PREDICT, json=GOOD_PENGUIN)
        assert gate.entered.wait(30)  # the worker runs the first request's batch
        others = [pool.submit(client.post, PREDICT, json=GOOD_PENGUIN) for _ in range(20)]
        assert wait_for(lambda: metric(client, "hubship_queue_rows") == 20)
        started = time.monotonic()
        assert client.get("/health").json() == {"status": "ok"}  # the loop runs no model
        assert client.get("/ready").status_code == 200
        assert time.monotonic() - started < 5
        gate.go.set()

        answers = [first.result(), *(future.result() for future in others)]
    assert {answer.status_code for answer in answers} == {200}
    assert all(answer.json()["prediction"] == expected for answer in answers)
    # the first request's batch, then one batch for the 20 that waited
    assert metric(client, "hubship_batch_rows_count") == 1 + 2
    assert metric(client, "hubship_batch_rows_sum") == 1 + 21


@pytest.mark.parametrize(("wait_ms", "calls"), [(1000, 1), (0, 2)])
def test_after_a_batch_of_several_requests_a_free_worker_waits_for_more(tmp_path, assets,
                                                                       wait_ms, calls):
    settings = {"HUBSHIP_INFERENCE_WORKERS": "0", "HUBSHIP_BATCH_WAIT_MS": wait_ms}
    with serving(app_serving(tmp_path, assets, **settings)) as client:
        app = client.app
        submit_together(client, [GOOD_PENGUIN] * 3)  # a call for 1, then one for 2: load
        assert metric(client, "hubship_batch_rows_count") == 2

        async def two_apart() -> list[Any]:
            active = app.state.serving.active
            species = active.predictors["species"]
            rows = species.rows(species.parser.parse(orjson.dumps(GOOD_PENGUIN))[0])
            first = app.state.engine.submit(active.key, species, rows)
            await asyncio.sleep(0.05)
            second = app.state.engine.submit(active.key, species, rows)
            return [await first, await second]

        assert [type(answer) for answer in client.portal.call(two_apart)] == [bytes, bytes]
        # waiting (up to 1 s), the worker gave both one call; not waiting, one call each
        assert metric(client, "hubship_batch_rows_count") == 2 + calls


@pytest.mark.parametrize("wait_ms", [5, 2000])
def test_clients_that_come_back_after_their_answers_meet_in_one_batch(tmp_path, assets,
                                                                      wait_ms):
    # 8 clients in a loop. Writing each answer keeps the event loop busy 2 ms (16 ms for the
    # batch, more than a 5 ms wait) and the next request arrives 1 ms later, as over a
    # socket. The wait for more starts once the answers are written, so each round's 8
    # requests share one call; started when the batch ended, it passed before any came back
    # and the first one made a batch alone (1, 7, 1, 7, ...). And once all 8 are back the
    # batch goes: a long wait is not waited out each round.
    settings = {"HUBSHIP_INFERENCE_WORKERS": "0", "HUBSHIP_BATCH_WAIT_MS": wait_ms}
    rounds = 6
    with serving(app_serving(tmp_path, assets, **settings)) as client:
        app = client.app

        async def clients() -> None:
            active = app.state.serving.active
            species = active.predictors["species"]
            rows = species.rows(species.parser.parse(orjson.dumps(GOOD_PENGUIN))[0])

            async def one_client() -> None:
                for _ in range(rounds):
                    assert isinstance(await app.state.engine.submit(active.key, species, rows),
                                      bytes)
                    time.sleep(0.002)  # writing the answer
                    await asyncio.sleep(0.001)  # the client's next request on its way

            await asyncio.gather(*(one_client() for _ in range(8)))

        started = time.monotonic()
        client.portal.call(clients)
        # waiting out 2 s a round would take 10 s; a round takes milliseconds
        assert time.monotonic() - started < 5
        # the first round may split (a call for the first request, one for the others), and
        # on a starved machine one more round may (a client back after its batch's end is
        # not counted in); a wait started when the batch ended makes 2 calls a round (12)
        assert metric(client, "hubship_batch_rows_count") <= rounds + 2
        assert metric(client, "hubship_batch_rows_sum") == 8 * rounds


@pytest.mark.parametrize("workers", ["1", "0"])
def test_a_record_the_model_rejects_fails_only_its_request(tmp_path, assets, workers):
    bad = {**GOOD_PENGUIN, "bill_length_mm": 42.0}
    with serving(app_serving(tmp_path, assets, HUBSHIP_INFERENCE_WORKERS=workers)) as client:
        good = client.post(PREDICT, json=GOOD_PENGUIN).json()["prediction"]
        # what the model costs, measured where it runs (the worker's thread or process)
        assert metric(client, 'hubship_model_seconds_total{model="species"}') > 0
        serve_model(client, lambda fitted: RaisesOn(fitted, bill_length_mm=42.0), tmp_path)

        # the first is predicted alone at once; the other three wait and share a call that
        # raises, then are retried one by one
        answers = submit_together(client, [GOOD_PENGUIN, GOOD_PENGUIN, bad, GOOD_PENGUIN])
        assert metric(client, "hubship_batch_rows_count") == 1 + 2
        assert [orjson.loads(a)[0] for a in (answers[0], answers[1], answers[3])] == [good] * 3
        assert answers[2] == JobFailed(500, "model 'species' failed: ValueError: cannot "
                                            "handle bill_length_mm=42.0")

        alone = client.post(PREDICT, json=bad)
        assert alone.status_code == 500
        assert alone.json()["detail"] == answers[2].message
        both = client.post(PREDICT, json=[GOOD_PENGUIN, bad])  # one request: it fails whole
        assert both.status_code == 500


def test_a_model_giving_more_results_than_records_fails_rather_than_mixing_answers(
        tmp_path, assets):
    with serving(app_serving(tmp_path, assets, HUBSHIP_INFERENCE_WORKERS="0")) as client:
        serve_model(client, lambda fitted: TwoPerRecord(fitted), tmp_path)
        # cut per request, a batch's answers would shift onto the wrong requests
        answers = submit_together(client, [GOOD_PENGUIN] * 3)
        assert all(isinstance(answer, JobFailed) and answer.status == 500 for answer in answers)
        assert "gave 2 results for 1 records" in answers[0].message
        alone = client.post(PREDICT, json=GOOD_PENGUIN)
        assert alone.status_code == 500 and "one per record is expected" in alone.json()["detail"]


def test_a_nan_answer_is_that_requests_error(tmp_path, assets):
    odd = {**GOOD_PENGUIN, "bill_length_mm": 40.5}
    with serving(app_serving(tmp_path, assets, HUBSHIP_INFERENCE_WORKERS="0")) as client:
        serve_model(client, lambda fitted: NaNOn(fitted, bill_length_mm=40.5), tmp_path)
        answers = submit_together(client, [GOOD_PENGUIN, GOOD_PENGUIN, odd, GOOD_PENGUIN])
        assert [type(a) for a in answers] == [bytes, bytes, JobFailed, bytes]
        assert "not a number (NaN or infinity) for record 0" in answers[2].message
        answer = client.post(PREDICT, json=[GOOD_PENGUIN, odd])
        assert answer.status_code == 500
        assert "for record 1" in answer.json()["detail"]


def test_a_full_queue_answers_503_and_a_late_answer_504(tmp_path, assets):
    settings = {"HUBSHIP_INFERENCE_WORKERS": "0", "HUBSHIP_QUEUE_ROWS": 2,
                "HUBSHIP_PREDICT_TIMEOUT": 2}
    with serving(app_serving(tmp_path, assets, **settings)) as client, \
            ThreadPoolExecutor(3) as pool:
        gate = GatedEstimator(client.app.state.serving.active.predictors["species"].estimator)
        serve_model(client, lambda _: gate, tmp_path)
        running = pool.submit(client.post, PREDICT, json=GOOD_PENGUIN)
        assert gate.entered.wait(30)
        waiting = [pool.submit(client.post, PREDICT, json=GOOD_PENGUIN) for _ in range(2)]
        assert wait_for(lambda: metric(client, "hubship_queue_rows") == 2)

        full = client.post(PREDICT, json=GOOD_PENGUIN)
        assert full.status_code == 503 and full.headers["Retry-After"] == "1"
        assert "more than 2 records are waiting" in full.json()["detail"]

        late = [future.result() for future in [running, *waiting]]  # the model still runs
        assert [answer.status_code for answer in late] == [504] * 3
        assert "HUBSHIP_PREDICT_TIMEOUT" in late[0].json()["detail"]
        gate.go.set()
        assert wait_for(lambda: metric(client, "hubship_queue_rows") == 0)
        assert client.post(PREDICT, json=GOOD_PENGUIN).status_code == 200
        assert metric(client, 'hubship_predict_requests_total{model="species",status="504"}') \
            == 3


def test_a_dead_inference_process_is_restarted_and_its_requests_answered_503(tmp_path,
                                                                              assets):
    with serving(app_serving(tmp_path, assets)) as client, ThreadPoolExecutor(1) as pool:
        engine = client.app.state.engine
        serve_model(client, lambda fitted: Slow(fitted, seconds=1.0), tmp_path)
        in_flight = pool.submit(client.post, PREDICT, json=GOOD_PENGUIN)
        assert wait_for(lambda: engine.in_flight == 1)
        time.sleep(0.2)  # the process has the batch
        os.kill(engine.workers[0].pid, signal.SIGKILL)

        answer = in_flight.result()
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
        assert "the inference process ended" in answer.json()["detail"]
        restarting = client.get("/ready")  # a new process takes a second to import pandas
        assert restarting.status_code == 503 and "restarting" in restarting.json()["reason"]
        assert wait_for(lambda: metric(client, "hubship_inference_workers") == 1, timeout=60)
        assert metric(client, "hubship_inference_worker_restarts_total") == 1
        again = client.post(PREDICT, json=GOOD_PENGUIN)  # the restarted one holds the release
        assert again.status_code == 200



def test_a_reload_frees_the_old_release_in_the_workers_even_when_a_request_was_cancelled(
        tmp_path, assets):
    # a request whose task is cancelled (its client gone, the server stopping) while it waits
    # still counts as answered: the release it read is freed in the inference processes once
    # its last request is done, not held there for good
    with serving(app_serving(tmp_path, assets)) as client:
        engine = client.app.state.engine
        (tmp_path / "slow").mkdir()
        serve_model(client, lambda fitted: Slow(fitted, seconds=1.0), tmp_path / "slow")
        old = client.app.state.serving.active.key

        async def one_running_one_cancelled() -> None:
            active = client.app.state.serving.active
            species = active.predictors["species"]
            rows = species.rows(species.parser.parse(orjson.dumps(GOOD_PENGUIN))[0])
            running = engine.submit(active.key, species, rows)  # the worker takes it at once
            waiting = asyncio.ensure_future(engine.submit(active.key, species, rows))
            await asyncio.sleep(0)
            waiting.cancel()
            assert isinstance(await running, bytes)

        client.portal.call(one_running_one_cancelled)
        assert engine.waiting[old] == 1  # the cancelled one, queued behind the first
        serve_model(client, lambda fitted: fitted, tmp_path)  # a reload: `old` is retired
        assert wait_for(lambda: set(engine.releases) == {client.app.state.serving.active.key})
        assert client.post(PREDICT, json=GOOD_PENGUIN).status_code == 200


def test_a_large_request_read_while_a_reload_swaps_is_answered_on_the_new_release(
        tmp_path, assets, monkeypatch):
    # a body over INLINE_BODY_BYTES is validated in a thread: a reload can swap, and free the
    # old release in the inference process, before the request is queued
    reading, go = threading.Event(), threading.Event()
    threaded = routes_models.in_worker

    async def held_in_worker(app_state: Any, func: Any, *args: Any) -> Any:
        reading.set()
        await asyncio.to_thread(go.wait)
        return await threaded(app_state, func, *args)

    monkeypatch.setattr(routes_models, "in_worker", held_in_worker)
    big = [GOOD_PENGUIN] * 200
    with serving(app_serving(tmp_path, assets)) as client, ThreadPoolExecutor(1) as pool:
        engine = client.app.state.engine
        old = client.app.state.serving.active.key
        request = pool.submit(client.post, PREDICT, json=big)
        assert reading.wait(30)
        serve_model(client, lambda fitted: fitted, tmp_path)  # the reload: `old` freed
        assert old not in engine.releases
        go.set()

        answer = request.result()
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["predictions"]) == 200
        assert metric(client, "hubship_inference_worker_restarts_total") == 0


def _children() -> list[int]:
    """This process's live child processes."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if int(parent) == os.getpid() and state != "Z":
            found.append(int(entry.name))
    return found


def test_a_process_that_dies_while_its_restart_loads_the_release_is_restarted_once(
        tmp_path, assets):
    with serving(app_serving(tmp_path, assets)) as client:
        engine = client.app.state.engine
        serve_model(client, lambda fitted: SlowToLoad(fitted, seconds=2.0), tmp_path)
        worker = engine.workers[0]
        first = worker.pid
        others = set(_children()) - {first}  # e.g. services of other tests
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: worker.pid != first, timeout=30)  # restarted, loading
        second = worker.pid
        os.kill(second, signal.SIGKILL)  # dies while it unpickles the release

        # one restart, and the next start is the only one (two would share the pipes)
        assert wait_for(lambda: worker.alive, timeout=60)
        assert worker.pid not in (first, second)
        assert metric(client, "hubship_inference_worker_restarts_total") == 1
        assert list(engine.idle).count(worker) == 1
        assert set(_children()) - others == {worker.pid}
        assert client.post(PREDICT, json=GOOD_PENGUIN).status_code == 200


def test_a_restart_that_cannot_load_the_release_leaves_no_process_behind(tmp_path, assets):
    with serving(app_serving(tmp_path, assets, HUBSHIP_PREDICT_TIMEOUT=2)) as client:
        engine = client.app.state.engine
        serve_model(client, lambda fitted: fitted, tmp_path)
        (tmp_path / "species.joblib").unlink()  # e.g. a cache pruned under the served release
        others = set(_children()) - {engine.workers[0].pid}  # e.g. services of other tests
        os.kill(engine.workers[0].pid, signal.SIGKILL)
        time.sleep(4)  # restarts that fail to load it, 0.5 s, 1 s, 2 s apart
        assert not engine.workers[0].alive
        assert len(set(_children()) - others) <= 1  # at most the one trying now
        answer = client.post(PREDICT, json=GOOD_PENGUIN)  # waits its 2 s, then says why
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
        assert "no inference worker is running" in answer.json()["detail"]


class _RunsACommand:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("echo this must not run",))


def test_the_backend_reads_an_inference_process_reply_as_plain_values_only():
    from hubship.serving.runner import ModelRunner
    from hubship.serving.workers import read_reply

    described = ModelRunner(name="species", task="classification", estimator=None,
                            columns=["island"], classes=["Adelie"], class_keys=["Adelie"],
                            with_probabilities=True, unit=None)
    replies = [("done", 7, [b'[{"label":"Adelie"}]', JobFailed(500, "it failed")], 0.25),
               ("loaded", 3, None, {"species": described})]
    for reply in replies:
        assert read_reply(pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)) == reply
    # a model's code runs in the inference process; a reply it forges runs nothing here
    with pytest.raises(pickle.UnpicklingError, match=r"replied with posix\.system"):
        read_reply(pickle.dumps(("done", 7, [_RunsACommand()], 0.0)))
