"""The OpenAPI document is the contract: every reference resolves, each model's predict path
documents that model's body, every status a route answers is listed with its body; and
schemathesis, with all its checks (answers against their response schemas too), finds nothing
against a real backend serving a real release."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from hubship.config import Settings
from hubship.services import free_port
from hubship.serving.app import create_app
from tests.support.backend import ADMIN_TOKEN, serving

WEBHOOK_SECRET = "webhook-secret-for-tests"
# bounded and reproducible: `make test` runs this every time
SCHEMATHESIS = ["--checks", "all", "--max-examples", "25", "--seed", "20261130",
                "--workers", "1", "--output-truncate", "true"]


def _dangling(document: dict) -> set[str]:
    components = document.get("components", {}).get("schemas", {})
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(document)))
    return {ref for ref in refs if not ref.startswith("#/components/schemas/")
            or ref.removeprefix("#/components/schemas/") not in components}


def _statuses(document: dict, path: str, method: str) -> set[str]:
    return set(document["paths"][path][method]["responses"])


def test_every_reference_resolves_and_each_model_documents_its_own_body(real_releases,
                                                                        tmp_path: Path):
    settings = Settings(hf_endpoint=f"http://127.0.0.1:{free_port()}", hf_repo_id="team/p",
                        hubship_home=tmp_path / "home", HUBSHIP_ASSETS_DIR=tmp_path / "none",
                        admin_token=ADMIN_TOKEN)
    with serving(create_app(settings)) as client:  # nothing to serve: the template path
        not_ready = client.get("/openapi.json").json()
    assert _dangling(not_ready) == set()
    assert "/models/{name}/predict" in not_ready["paths"]

    settings = settings.model_copy(update={"assets_dir": real_releases[2].files})
    with serving(create_app(settings)) as client:
        document = client.get("/openapi.json").json()
    assert _dangling(document) == set()
    assert "/models/{name}/predict" not in document["paths"]
    for name, model in (("species", "SpeciesInput"), ("body_mass", "BodyMassInput")):
        body = document["paths"][f"/models/{name}/predict"]["post"]["requestBody"]
        one, many = body["content"]["application/json"]["schema"]["anyOf"]
        assert one == {"$ref": f"#/components/schemas/{model}"} == many["items"]
        assert many["maxItems"] == settings.max_records
        assert _statuses(document, f"/models/{name}/predict", "post") == {
            "200", "404", "413", "422", "500", "503"}
    species = document["components"]["schemas"]["SpeciesInput"]
    # train.py's encoder ignores unseen islands: any text, the known ones named
    island = species["properties"]["island"]
    assert island["type"] == "string"
    assert island["description"].startswith("usually one of 'Biscoe', 'Dream', 'Torgersen'")
    assert species["required"] == ["island"]
    [name] = document["paths"]["/models/{name}"]["get"]["parameters"]
    assert name["schema"]["enum"] == ["body_mass", "species"]

    assert _statuses(document, "/admin/reload", "post") == {
        "200", "401", "404", "409", "413", "422", "502"}
    assert _statuses(document, "/hooks/huggingface", "post") == {
        "202", "401", "404", "413", "422"}
    hook_body = document["paths"]["/hooks/huggingface"]["post"]["requestBody"]
    assert hook_body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HubWebhook"}
    assert set(document["components"]["securitySchemes"]) == {"AdminToken", "WebhookSecret"}
    for path in ("/ready", "/version", "/models", "/models/{name}", "/releases"):
        assert "503" in _statuses(document, path, "get"), path
    for path, operations in document["paths"].items():  # every answer's body is documented
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json", {})
                assert "schema" in content, (method, path, status)
    version = document["paths"]["/version"]["get"]["responses"]["200"]
    assert version["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/VersionInfo"}


def test_schemathesis_finds_nothing_against_a_real_backend(hub_url, repo_id, published,
                                                          start_backend, tmp_path: Path):
    backend = start_backend({"HF_ENDPOINT": hub_url, "HF_REPO_ID": repo_id,
                             "HUBSHIP_HOME": str(tmp_path / "home"), "ADMIN_TOKEN": ADMIN_TOKEN,
                             "HF_WEBHOOK_SECRET": WEBHOOK_SECRET})
    # A number far outside the training range (1e308) is schema-valid, but the model gives no
    # number for it: a 422 naming the value (documented), on the predict routes only.
    (tmp_path / "schemathesis.toml").write_text(
        '[[operations]]\ninclude-path-regex = "^/models/[^/]+/predict$"\n'
        'checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422", "429"]\n')
    done = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{backend.url}/openapi.json",
         *SCHEMATHESIS, "--header", f"Authorization: Bearer {ADMIN_TOKEN}",
         "--header", f"X-Webhook-Secret: {WEBHOOK_SECRET}",
         "--report", "junit", "--report-dir", str(tmp_path / "report")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1"},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "No issues found" in output, output
    assert re.search(r"Tested: 10\b", output), output  # every operation, both models' predict
