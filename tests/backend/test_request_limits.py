"""What one predict request may cost: at most HUBSHIP_MAX_RECORDS records (422 past it), at most
HUBSHIP_MAX_ERRORS errors listed (and how many more), and a big body validated off the event
loop, so /health answers meanwhile. The figures (latencies) are measured by
bench/predict_limits.py; here, generous functional bounds only."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import pytest

from hubship.config import Settings
from hubship.manifest import Manifest
from hubship.services import free_port
from hubship.serving.app import create_app
from hubship.serving.schemas import (
    CONVERTED_AT_ONCE,
    InvalidInput,
    RequestLimits,
    RequestParser,
)
from tests.support.backend import serving
from tests.support.real_releases import SPECIES_RECORD

EMPTY_RECORDS_1MB = b"[" + b",".join([b"{}"] * 333_000) + b"]"  # the review's request


@pytest.fixture
def client(real_releases, tmp_path: Path):
    """A backend serving the real release 2 (bundled; its Hub is down), 5 records and 3 errors
    at most."""
    settings = Settings(hf_endpoint=f"http://127.0.0.1:{free_port()}",
                        hf_repo_id="team/penguins", hubship_home=tmp_path / "home",
                        HUBSHIP_ASSETS_DIR=real_releases[2].files, HUBSHIP_MAX_RECORDS=5,
                        HUBSHIP_MAX_ERRORS=3,
                        HUBSHIP_INFERENCE_WORKERS="0")  # limits, not the engine: a thread
    with serving(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def parser(real_releases) -> RequestParser:
    """The species model's parser with the default limits (1000 records, 20 errors)."""
    entry = Manifest.read(real_releases[2].files).models["species"]
    return RequestParser("species", entry, RequestLimits())


def test_more_records_than_the_limit_is_a_422_that_names_it(client):
    # a 422 like any body off the documented schema (the list's maxItems)
    assert client.post("/models/species/predict", json=[SPECIES_RECORD] * 5).status_code == 200
    refused = client.post("/models/species/predict", json=[SPECIES_RECORD] * 6)
    assert refused.status_code == 422
    assert refused.json()["detail"] == [{"loc": ["body"], "type": "too_many_records", "msg": (
        "6 records in one request; at most 5 are accepted (the limit is HUBSHIP_MAX_RECORDS): "
        "send them in batches")}]
    # counted before anything is parsed: objects or arrays nested in the records count too
    nested = client.post("/models/species/predict",
                         json=[{**SPECIES_RECORD, "island": [[1], [2], [3], [4], [5]]}])
    assert nested.status_code == 422
    assert nested.json()["detail"][0]["msg"] == (
        "the body holds 8 JSON objects or arrays, but a record's values are numbers, strings, "
        "booleans or null: 5 records (the limit is HUBSHIP_MAX_RECORDS) hold at most 6")
    schema = client.get("/openapi.json").json()["paths"]["/models/species/predict"]["post"]
    assert schema["requestBody"]["content"]["application/json"]["schema"]["anyOf"][1][
        "maxItems"] == 5


def test_a_422_lists_the_first_errors_and_counts_the_others(client):
    answer = client.post("/models/species/predict", json=[{}] * 5)  # island is required
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert [e["loc"] for e in detail[:3]] == [["body", i, "island"] for i in range(3)]
    assert all(e["msg"].startswith("island is required: usually one of") for e in detail[:3])
    assert detail[3] == {"loc": ["body"], "type": "too_many_errors", "msg": (
        "and 2 more errors: only the first 3 are listed (HUBSHIP_MAX_ERRORS); fix these and "
        "send the body again")}
    few = client.post("/models/species/predict", json=[{}, SPECIES_RECORD])
    assert [e["loc"] for e in few.json()["detail"]] == [["body", 0, "island"]]


def test_many_errors_are_listed_the_same_as_few(parser):
    # over CONVERTED_AT_ONCE errors, the first ones are found record by record: same answer
    records = [{"wings": index} for index in range(CONVERTED_AT_ONCE)]  # 2 errors each
    with pytest.raises(InvalidInput) as many:
        parser.parse(orjson.dumps(records))
    with pytest.raises(InvalidInput) as few:
        parser.parse(orjson.dumps(records[:10]))  # 20 errors, converted at once
    assert many.value.errors[:20] == few.value.errors[:20]
    assert {e["msg"] for e in many.value.errors[:2]} == {
        "unknown field 'wings'; this model takes: island, sex, bill_length_mm, bill_depth_mm, "
        "flipper_length_mm, body_mass_g",
        "island is required: usually one of 'Biscoe', 'Dream', 'Torgersen'"}
    assert many.value.errors[20]["msg"].startswith("and 1980 more errors: only the first 20")

    wide = {**SPECIES_RECORD, **{f"x{i}": i for i in range(5000)}}  # one record, 5000 unknown
    with pytest.raises(InvalidInput) as caught:
        parser.parse(orjson.dumps(wide))
    assert [e["loc"] for e in caught.value.errors[:20]] == [["body", f"x{i}"] for i in range(20)]
    assert caught.value.errors[20]["msg"].startswith("and 4980 more errors")


def test_a_body_of_far_too_many_fields_is_refused_on_its_shape(parser):
    wide = {f"x{i}": i for i in range(30_000)}  # more than 1000 records * (6 inputs + 20)
    with pytest.raises(InvalidInput) as caught:
        parser.parse(orjson.dumps(wide))
    assert caught.value.errors == [{"loc": ["body"], "type": "too_many_fields", "msg": (
        "the body holds 30000 fields; model 'species' takes 6 per record (island, sex, "
        "bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g)")}]
    # colons and braces inside strings are not fields nor objects
    tricky = {**SPECIES_RECORD, "bill_length_mm": "{[:" * 20_000}
    with pytest.raises(InvalidInput) as caught:
        parser.parse(orjson.dumps([tricky] * 2))
    assert [e["loc"] for e in caught.value.errors] == [["body", 0, "bill_length_mm"],
                                                       ["body", 1, "bill_length_mm"]]
    with pytest.raises(InvalidInput) as caught:
        parser.parse(EMPTY_RECORDS_1MB)
    assert caught.value.errors[0]["msg"].startswith("333000 records in one request; at most 1000")


def test_a_1mb_body_of_empty_records_is_refused_quickly_while_health_answers(
        hub_url, repo_id, published, start_backend, tmp_path):
    backend = start_backend({"HF_ENDPOINT": hub_url, "HF_REPO_ID": repo_id,
                             "HUBSHIP_HOME": str(tmp_path / "home")})
    assert len(EMPTY_RECORDS_1MB) < 1_000_000  # under the body limit: parsed, not refused
    health: list[tuple[int, float]] = []

    def post() -> tuple[int, float, str]:
        started = time.monotonic()
        answer = httpx.post(f"{backend.url}/models/species/predict", content=EMPTY_RECORDS_1MB,
                            headers={"Content-Type": "application/json"}, timeout=60)
        return answer.status_code, time.monotonic() - started, answer.text

    with httpx.Client(base_url=backend.url, timeout=60) as http, ThreadPoolExecutor(3) as pool:
        attacks = [pool.submit(post) for _ in range(3)]  # three at once, as in the review
        while not all(attack.done() for attack in attacks):
            started = time.monotonic()
            health.append((http.get("/health").status_code, time.monotonic() - started))
        answers = [attack.result() for attack in attacks]

    for status, seconds, text in answers:
        assert status == 422 and "HUBSHIP_MAX_RECORDS" in text and len(text) < 500
        assert seconds < 5, f"the refusal took {seconds:.1f} s"
    assert health and {status for status, _ in health} == {200}
    assert max(seconds for _, seconds in health) < 2  # bench/predict_limits.py: milliseconds
    assert httpx.post(f"{backend.url}/models/species/predict",
                      json=SPECIES_RECORD).status_code == 200
