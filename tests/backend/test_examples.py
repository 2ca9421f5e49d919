"""examples/train.py through the real loop: trained, published with scripts/upload_models.py
to a repo of the session hub, served by one real uvicorn backend: a text classifier, a model
trained on a (sparse) array, and LightGBM; and their bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hubship.manifest import Manifest
from hubship.services import Service, free_port
from hubship.serving.app import create_app
from tests.backend.test_serving_routes import offline_settings
from tests.support.backend import serving, wait_for_first_load
from tests.support.real_releases import CI_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
DIGIT_ZERO = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0,
              0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2,
              14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0]  # the first image of load_digits


def _run(argv: list[str], **env: str) -> str:
    full_env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES} | env
    done = subprocess.run(argv, cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def examples(hub_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from huggingface_hub import HfApi

    work = tmp_path_factory.mktemp("examples")
    repo_id = f"tests/examples-{uuid.uuid4().hex[:8]}"
    HfApi(endpoint=hub_url, token="test-token").create_repo(repo_id)  # public: no token to read
    trained = _run([sys.executable, "examples/train.py"], HUBSHIP_ASSETS_DIR=str(work / "assets"))
    _run([sys.executable, "scripts/upload_models.py"], HUBSHIP_ASSETS_DIR=str(work / "assets"),
         HF_ENDPOINT=hub_url, HF_TOKEN="test-token", HF_REPO_ID=repo_id,
         HUBSHIP_HOME=str(work / "publisher-home"))
    return {"repo_id": repo_id, "assets": work / "assets", "trained": trained}


@pytest.fixture(scope="module")
def backend(hub_url: str, examples: dict[str, object],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("examples-backend")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service = Service(
        "backend", [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
                    "--port", str(port), "--no-access-log"],
        url=url, health_url=f"{url}/health", cwd=ROOT, log_path=home / "backend.log",
        env={"HF_HUB_DISABLE_TELEMETRY": "1", "HUBSHIP_ASSETS_DIR": str(home / "none"),
             "HF_ENDPOINT": hub_url, "HF_REPO_ID": str(examples["repo_id"]),
             "HUBSHIP_HOME": str(home / "home")},
    )
    service.start(timeout=60)
    try:
        assert wait_for_first_load(url).status_code == 200
        yield url
    finally:
        service.stop()


def predict(url: str, model: str, body: object) -> httpx.Response:
    return httpx.post(f"{url}/models/{model}/predict", json=body, timeout=30)


def test_a_text_classifier_predicts_new_sentences(backend: str, examples) -> None:
    assert "input 'review' is text (432 distinct of 432 values)" in examples["trained"]
    described = httpx.get(f"{backend}/models/reviews").json()
    assert described["inputs"] == [{
        "name": "review", "type": "text", "nullable": False, "min": None, "max": None,
        "values": None, "limit_min": None, "limit_max": None, "accepts_unknown": False,
        "max_length": 2000}]
    for sentence, sentiment in (("This toaster is a pleasure to use, great value.", "positive"),
                                ("The bike broke after a week and was a disappointment.",
                                 "negative")):
        answer = predict(backend, "reviews", {"review": sentence})
        assert answer.status_code == 200, answer.text
        assert answer.json()["prediction"]["label"] == sentiment
        assert answer.json()["warnings"] == []

    too_long = predict(backend, "reviews", {"review": "great " * 400})
    assert too_long.status_code == 422
    [error] = too_long.json()["detail"]
    assert error["loc"] == ["body", "review"]
    assert error["msg"].startswith("review must be a text of at most 2000 characters; got")


def test_a_model_trained_on_an_array_takes_a_plain_list_or_a_record(backend: str) -> None:
    described = httpx.get(f"{backend}/models/digits").json()
    assert described["array"] is True
    assert [spec["name"] for spec in described["inputs"]] == [f"x{i}" for i in range(64)]
    as_list = predict(backend, "digits", DIGIT_ZERO)
    assert as_list.status_code == 200, as_list.text
    assert as_list.json()["prediction"]["label"] == 0
    as_record = predict(backend, "digits", {f"x{i}": v for i, v in enumerate(DIGIT_ZERO)})
    assert as_record.json()["prediction"] == as_list.json()["prediction"]
    several = predict(backend, "digits", [DIGIT_ZERO, DIGIT_ZERO])
    assert [p["label"] for p in several.json()["predictions"]] == [0, 0]
    # x0 is 0 in every training image: a 3 there is predicted, with a warning
    assert predict(backend, "digits", [3, *DIGIT_ZERO[1:]]).json()["warnings"] == [
        "x0 3.0 is above the training maximum 0"]

    short = predict(backend, "digits", DIGIT_ZERO[:10])
    assert short.status_code == 422
    assert short.json()["detail"][0]["msg"] == (
        "a record of model 'digits' is a list of 64 numbers (x0..x63) or an object of them; "
        "got 10 values")
    not_a_number = httpx.post(f"{backend}/models/digits/predict", timeout=30,
                              content=b"[NaN" + b", 0" * 63 + b"]")
    assert not_a_number.status_code == 422 and "not valid JSON" in not_a_number.text
    missing = predict(backend, "digits", [None, *DIGIT_ZERO[1:]])
    assert missing.json()["detail"] == [{"loc": ["body", "x0"], "type": "float_type",
                                         "msg": "x0 must be a number; got None"}]


def test_a_lightgbm_model_is_served_with_its_version_recorded(backend: str, examples) -> None:
    import lightgbm

    manifest = Manifest.read(examples["assets"])
    assert manifest.models["wine"].packages == ["lightgbm", "numpy", "scikit-learn"]
    assert manifest.environment.packages["lightgbm"] == lightgbm.__version__
    example = httpx.get(f"{backend}/models/wine").json()["example"]
    answer = predict(backend, "wine", example)
    assert answer.status_code == 200 and answer.json()["prediction"]["label"] in {0, 1, 2}
    refused = predict(backend, "wine", {**example, "alcohol": 150})  # declared limits
    assert refused.json()["detail"] == [{
        "loc": ["body", "alcohol"], "type": "less_than_equal",
        "msg": "alcohol must be a number between 0 and 100; got 150"}]


def test_a_backend_without_a_package_the_model_needs_is_not_ready(examples, tmp_path) -> None:
    assets = Path(shutil.copytree(examples["assets"], tmp_path / "assets"))
    data = json.loads((assets / "manifest.json").read_text())
    data["models"]["wine"]["packages"].append("hubship-no-such-package")
    data["environment"]["packages"]["hubship-no-such-package"] = "1.2.3"
    (assets / "manifest.json").write_text(json.dumps(data))
    with serving(create_app(offline_settings(tmp_path, assets))) as client:
        ready = client.get("/ready")
    assert ready.status_code == 503
    assert ("model 'wine' needs hubship-no-such-package 1.2.3, which is not installed here: "
            "add hubship-no-such-package==1.2.3 to requirements.txt") in ready.json()["reason"]
