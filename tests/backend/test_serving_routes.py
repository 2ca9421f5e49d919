"""Route details, in process (fastapi TestClient): validation messages, limits, admin and
webhook checks, scikit-learn version refusal. The Hub is down, so the backend serves the real
release 2 as its bundled release."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from hubship.config import Settings
from hubship.errors import IncompatibleRelease
from hubship.loader import load_bundled
from hubship.services import free_port
from hubship.serving.app import RedactSecrets, create_app
from tests.support.backend import ADMIN_TOKEN, serving
from tests.support.real_releases import SPECIES_RECORD
from tests.support.release_builder import pickled_with


@pytest.fixture(scope="module")
def assets(real_releases) -> Path:
    """The real release 2's files (read only here)."""
    return real_releases[2].files


def offline_settings(tmp_path: Path, assets: Path, **extra) -> Settings:
    """A backend whose Hub is down, so it serves the bundled release."""
    return Settings(hf_endpoint=f"http://127.0.0.1:{free_port()}", hf_repo_id="team/penguins",
                    hubship_home=tmp_path / "home", HUBSHIP_ASSETS_DIR=assets, **extra)


@pytest.fixture
def client(tmp_path: Path, assets: Path):
    # the model in a thread, not an inference process: these tests check routes, not the
    # engine (tests/backend/test_inference_engine.py and the end-to-end tests use processes)
    settings = offline_settings(tmp_path, assets, admin_token=ADMIN_TOKEN,
                                hf_webhook_secret="hook-secret", HUBSHIP_MAX_BODY_BYTES=2000,
                                HUBSHIP_INFERENCE_WORKERS="0")
    with serving(create_app(settings)) as test_client:
        yield test_client


def errors(response) -> dict[tuple, str]:
    assert response.status_code == 422, response.text
    return {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}


def test_bad_fields_name_the_field_and_what_is_allowed(client):
    # types are strict; the training range and unseen islands only warn (test_model_inputs)
    found = errors(client.post("/models/species/predict", json={
        **SPECIES_RECORD, "island": 5, "bill_length_mm": "long", "wings": 2}))
    assert found[("body", "island")] == \
        "island must be usually one of 'Biscoe', 'Dream', 'Torgersen'; got 5"
    assert found[("body", "bill_length_mm")] == \
        "bill_length_mm must be a number, or null; got 'long'"
    assert "unknown field 'wings'" in found[("body", "wings")]

    missing = dict(SPECIES_RECORD)
    del missing["island"]  # the measurements had gaps in training, so they may be null
    found = errors(client.post("/models/species/predict", json=[SPECIES_RECORD, missing]))
    assert list(found) == [("body", 1, "island")]
    assert found[("body", 1, "island")].startswith("island is required")

    assert "not valid JSON" in errors(client.post("/models/species/predict", content=b"{"))[
        ("body",)]
    assert "empty" in errors(client.post("/models/species/predict", json=[]))[("body",)]
    assert "JSON object" in errors(client.post("/models/species/predict", json=[3]))[("body", 0)]


def test_predictions_carry_the_release(client):
    one = client.post("/models/species/predict", json=SPECIES_RECORD).json()
    assert one["release"] == 2 and one["prediction"]["label"] in {"Adelie", "Chinstrap", "Gentoo"}
    many = client.post("/models/species/predict", json=[SPECIES_RECORD] * 3).json()
    assert len(many["predictions"]) == 3
    unknown = client.post("/models/penguin/predict", json=SPECIES_RECORD)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "unknown model 'penguin'; available: body_mass, species"


def test_body_limit(client):
    too_big = client.post("/models/species/predict", json=[SPECIES_RECORD] * 50)
    assert too_big.status_code == 413 and "2000 bytes" in too_big.json()["detail"]
    chunked = client.post("/models/species/predict",
                          content=iter([b"[" + b" " * 1500, b" " * 1500 + b"]"]))
    assert chunked.status_code == 413
    # the other routes (past the predict fast path) get the same answer, declared or chunked
    for content in (b" " * 3000, iter([b" " * 1500, b" " * 1500])):
        hook = client.post("/hooks/huggingface", content=content,
                           headers={"X-Webhook-Secret": "hook-secret"})
        assert hook.status_code == 413 and "2000 bytes" in hook.json()["detail"]


def test_a_bug_while_predicting_is_a_500_and_the_backend_goes_on(client, monkeypatch, caplog):
    import hubship.serving.fast_path as fast_path

    async def broken(*args: object) -> bytes:
        raise RuntimeError("a bug")

    with monkeypatch.context() as patched:
        patched.setattr(fast_path, "predict_answer", broken)
        failed = client.post("/models/species/predict", json=SPECIES_RECORD)
    assert failed.status_code == 500 and "backend log" in failed.json()["detail"]
    assert "RuntimeError: a bug" in caplog.text
    assert client.post("/models/species/predict", json=SPECIES_RECORD).status_code == 200


def test_admin_reload_needs_the_token(client, tmp_path, assets):
    for headers in ({}, {"Authorization": "Bearer wrong"},
                    {"Authorization": f"Basic {ADMIN_TOKEN}"}):
        refused = client.post("/admin/reload", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json() == {"detail": "missing or wrong bearer token"}
        assert refused.headers["www-authenticate"] == "Bearer"
    scheme = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert scheme["AdminToken"]["scheme"] == "bearer"
    failed = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert failed.status_code == 502 and "did not answer" in failed.json()["detail"]
    assert "(hint: check HF_ENDPOINT and the network" in failed.json()["detail"]
    assert client.get("/version").json()["source"] == "bundled"  # the current release stays

    with serving(create_app(offline_settings(tmp_path, assets))) as no_admin:
        assert no_admin.post("/admin/reload").status_code == 404
        assert no_admin.post("/hooks/huggingface", json={}).status_code == 404


def test_webhook_acts_only_for_this_repo_and_the_watched_ref(client):
    def hook(payload, secret="hook-secret"):
        return client.post("/hooks/huggingface", json=payload,
                           headers={"X-Webhook-Secret": secret})

    event = {"event": {"action": "update", "scope": "repo.content"},
             "repo": {"type": "model", "name": "team/penguins"},
             "updatedRefs": [{"ref": "refs/heads/main", "newSha": "a" * 40}]}
    assert hook(event, secret="nope").status_code == 401
    other_repo = hook({**event, "repo": {"type": "model", "name": "someone/else"}})
    assert other_repo.json()["status"] == "ignored" and "not this repo" in \
        other_repo.json()["reason"]
    other_ref = hook({**event, "updatedRefs": [{"ref": "refs/heads/dev"}]})
    assert other_ref.json() == {"status": "ignored", "reason": "main did not move"}
    acted = hook(event)
    assert acted.status_code == 202 and acted.json()["status"] == "reloading"


OUR_EVENT = {"event": {"action": "update", "scope": "repo.content"},
             "repo": {"type": "model", "name": "team/penguins"}}


@pytest.mark.parametrize(("body", "loc", "message"), [
    ({"repo": "x"}, ["body", "repo"], "repo: Input should be an object"),
    ({**OUR_EVENT, "updatedRefs": 5}, ["body", "updatedRefs"],
     "updatedRefs: Input should be a valid array"),
    ({**OUR_EVENT, "updatedRefs": [5]}, ["body", "updatedRefs", 0],
     "updatedRefs.0: Input should be an object"),
    ({"event": {"scope": 3}}, ["body", "event", "scope"], "event.scope: Input should be a valid"),
    ([1], ["body"], "the body must be a JSON object (a Hub webhook payload)"),
    ("{not json", ["body"], "the body is not JSON"),
])
def test_a_webhook_body_of_the_wrong_shape_is_a_clear_422(client, body, loc, message):
    content = body if isinstance(body, str) else json.dumps(body)
    answer = client.post("/hooks/huggingface", content=content,
                         headers={"X-Webhook-Secret": "hook-secret",
                                  "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["detail"]
    assert error["loc"] == loc and error["msg"].startswith(message)
    # the secret is checked first: a stranger learns nothing about the expected shape
    stranger = client.post("/hooks/huggingface", content=content,
                           headers={"X-Webhook-Secret": "nope"})
    assert stranger.status_code == 401


def test_a_webhook_keeps_fields_it_does_not_know_and_accepts_nulls(client):
    answer = client.post("/hooks/huggingface", headers={"X-Webhook-Secret": "hook-secret"}, json={
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {"type": "model", "name": "team/penguins", "id": "abc", "private": True},
        "updatedRefs": [{"ref": "refs/tags/v9", "oldSha": None, "newSha": "b" * 40}],
        "webhook": {"id": "w1", "version": 3}})
    assert answer.status_code == 202
    assert answer.json() == {"status": "ignored", "reason": "main did not move"}


def test_sklearn_mismatch_is_refused_unless_allowed(real_releases, tmp_path, caplog):
    import sklearn

    assets = pickled_with(Path(shutil.copytree(real_releases[1].assets, tmp_path / "old")),
                          "0.24.2")
    settings = offline_settings(tmp_path, assets)
    with pytest.raises(IncompatibleRelease) as refused:
        load_bundled(settings)
    assert "scikit-learn 0.24.2" in str(refused.value)
    assert f"scikit-learn {sklearn.__version__}" in str(refused.value)
    with serving(create_app(settings)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503 and "0.24.2" in ready.json()["reason"]

    allowed = offline_settings(tmp_path, assets, HUBSHIP_ALLOW_SKLEARN_MISMATCH=True)
    with caplog.at_level(logging.WARNING, logger="hubship"):
        assert load_bundled(allowed).source == "bundled"
    assert "loading anyway" in caplog.text


def test_log_filter_removes_secrets():
    record = logging.LogRecord("hubship", logging.INFO, __file__, 1,
                               "token %s and Bearer abc.def", (ADMIN_TOKEN,), None)
    RedactSecrets([ADMIN_TOKEN]).filter(record)
    assert ADMIN_TOKEN not in record.getMessage() and "abc.def" not in record.getMessage()
