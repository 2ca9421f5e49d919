"""What the backend makes of a model's inputs, on the real release 2 (in process, the Hub
down so it serves it bundled): the example record, values outside the training range or
unseen categories predicted with a warning and counted, and a release made before hubship/2
(a manifest without the new fields) served as before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hubship.manifest import Manifest
from hubship.serving.app import create_app
from tests.backend.test_serving_routes import offline_settings
from tests.support.backend import serving
from tests.support.real_releases import BODY_MASS_RECORD, SPECIES_RECORD


@pytest.fixture(scope="module")
def client(real_releases, tmp_path_factory):
    settings = offline_settings(tmp_path_factory.mktemp("inputs"), real_releases[2].files)
    with serving(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def manifest(real_releases) -> Manifest:
    return Manifest.read(real_releases[2].files)


def test_models_name_returns_the_training_example_and_openapi_shows_it(client, manifest):
    species = manifest.models["species"]
    described = client.get("/models/species").json()
    assert described["example"] == species.example
    assert set(described["example"]) == {spec.name for spec in species.inputs}
    # medians and modes of what train.py trained on: a real penguin, predicted without a word
    assert described["example"]["island"] in {"Biscoe", "Dream", "Torgersen"}
    bill = next(spec for spec in species.inputs if spec.name == "bill_length_mm")
    assert bill.min < described["example"]["bill_length_mm"] < bill.max
    answer = client.post("/models/species/predict", json=described["example"]).json()
    assert answer["warnings"] == [] and answer["prediction"]["label"]

    document = client.get("/openapi.json").json()
    body = document["paths"]["/models/species/predict"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["anyOf"][0]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["examples"] == [species.example]
    assert schema["properties"]["island"]["examples"] == [species.example["island"]]


def test_a_value_outside_the_training_range_is_predicted_with_a_warning(client, manifest):
    bill = next(spec for spec in manifest.models["species"].inputs
                if spec.name == "bill_length_mm")
    answer = client.post("/models/species/predict",
                         json={**SPECIES_RECORD, "bill_length_mm": 61, "island": "Mars"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["warnings"] == [
        f"bill_length_mm 61.0 is above the training maximum {bill.max:g}",
        "island 'Mars' was not seen in training; the model ignores it",
    ]
    assert answer.json()["prediction"]["label"] in {"Adelie", "Chinstrap", "Gentoo"}

    many = client.post("/models/species/predict", json=[
        SPECIES_RECORD, {**SPECIES_RECORD, "bill_length_mm": 1}]).json()
    assert many["warnings"] == [
        f"record 1: bill_length_mm 1.0 is below the training minimum {bill.min:g}"]

    # so far out that the model gives no number: a 422 naming the value, not a 500
    mass_bill = next(spec for spec in manifest.models["body_mass"].inputs
                     if spec.name == "bill_length_mm")
    absurd = client.post("/models/body_mass/predict", json={**BODY_MASS_RECORD,
                                                            "bill_length_mm": 1.7e308})
    assert absurd.status_code == 422, absurd.text
    [error] = absurd.json()["detail"]
    assert error["loc"] == ["body", "bill_length_mm"]
    assert error["msg"].startswith(f"bill_length_mm 1.7e+308 is above the training maximum "
                                   f"{mass_bill.max:g}, and the model gave no prediction for it")

    metrics = client.get("/metrics").text
    counted = {line.split(" ")[0]: float(line.split(" ")[1]) for line in metrics.splitlines()
               if line.startswith("hubship_input_out_of_range_total{input=\"")
               and 'model="species"' in line}
    assert counted == {
        'hubship_input_out_of_range_total{input="bill_length_mm",model="species"}': 2.0,
        'hubship_input_out_of_range_total{input="island",model="species"}': 1.0}
    described = client.get("/models/species").json()
    assert next(i for i in described["inputs"] if i["name"] == "island")["accepts_unknown"]


def test_a_release_made_before_hubship_2_still_loads_and_serves(real_releases, tmp_path):
    """Release 2 with its manifest as hubship/1 wrote it: no example, array, packages,
    limits, accepts_unknown nor max_length."""
    old = Path(shutil.copytree(real_releases[2].files, tmp_path / "old",
                               ignore=shutil.ignore_patterns(".cache")))
    data = json.loads((old / "manifest.json").read_text())
    data["format"] = "hubship/1"
    for entry in data["models"].values():
        for key in ("example", "array", "packages"):
            del entry[key]
        for spec in entry["inputs"]:
            for key in ("limit_min", "limit_max", "accepts_unknown", "max_length"):
                del spec[key]
    (old / "manifest.json").write_text(json.dumps(data))

    with serving(create_app(offline_settings(tmp_path, old))) as client:
        assert client.get("/ready").status_code == 200
        assert client.get("/models/species").json()["example"] is None
        answer = client.post("/models/species/predict",
                             json={**SPECIES_RECORD, "bill_length_mm": 61})
        assert answer.status_code == 200 and answer.json()["warnings"][0].startswith(
            "bill_length_mm 61.0 is above the training maximum")
        unseen = client.post("/models/species/predict", json={**SPECIES_RECORD, "island": "Mars"})
        assert unseen.status_code == 422  # no release said the model takes unseen islands
