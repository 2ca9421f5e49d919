"""The page in a real browser (Debian's headless Chromium) against a real backend serving
releases v1 and v2 from the local hub, through `hubship frontend`."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from hubship.services import free_port
from tests.support.browser_checks import axe_findings, check_at_both_widths
from tests.support.frontend_services import backend_service, frontend_service
from tests.support.release_builder import FRONTEND_MODELS, build_release, publish_release
from tests.support.trust import key_files

pytestmark = pytest.mark.slow

# A Gentoo penguin by every measure (long flippers, deep body, Biscoe island).
GENTOO = {"island": "Biscoe", "bill_length_mm": "47.5", "bill_depth_mm": "14.8",
          "flipper_length_mm": "217", "sex": "male", "year": "2008"}


def fill_form(page: Page, model: str, values: dict[str, str]) -> None:
    for field, value in values.items():
        control = page.get_by_test_id(f"input-{model}-{field}")
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(label=value)
        else:
            control.fill(value)


def test_the_page_shows_the_live_release(page: Page, frontend_url: str,
                                         published: dict[str, object]) -> None:
    live_sha = published["shas"][-1]
    page.goto(frontend_url)

    expect(page.get_by_test_id("release-tag")).to_have_text("v2")
    expect(page.get_by_test_id("release-sha")).to_have_text(live_sha[:7])
    expect(page.get_by_test_id("release-source")).to_have_text("hub")
    expect(page.get_by_test_id("release-source-commit")).to_have_text("2" * 7)
    expect(page.get_by_test_id("release-verified")).to_have_text("not verified")  # no key
    expect(page.get_by_test_id("source-warning")).to_have_count(0)
    expect(page.get_by_test_id("status-banner")).to_be_hidden()
    link = page.locator("a[data-testid=release-sha]")
    expect(link).to_have_count(1)  # a Hub release links its commit
    assert link.get_attribute("href").endswith(f"/commit/{live_sha}")
    expect(page.get_by_test_id("release-dirty")).to_have_count(0)
    assert page.console_errors == []


def test_models_show_their_estimators_short_name_and_fill_the_grid(
    page: Page, frontend_url: str, backend_url: str,
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(frontend_url)
    estimator = page.get_by_test_id("model-body_mass").get_by_test_id("estimator")
    expect(estimator).to_have_text("Ridge (Pipeline)")  # not "sklearn.linear_" / "model._ridge..."
    full_path = httpx.get(f"{backend_url}/models/body_mass").json()["estimator"]
    assert full_path == "sklearn.pipeline.Pipeline[sklearn.linear_model._ridge.Ridge]"
    assert estimator.get_attribute("title") == full_path  # the whole path on hover
    # two models share the row: no empty third column
    grid = page.locator(".models").bounding_box()
    cards = [c.bounding_box() for c in page.locator(".model-card").all()]
    assert len(cards) == 2 and cards[0]["y"] == cards[1]["y"]
    assert abs(cards[1]["x"] + cards[1]["width"] - (grid["x"] + grid["width"])) < 2


def test_a_prediction_round_trip_shows_the_label_and_its_probabilities(
    page: Page, frontend_url: str, artifacts_dir: Path,
) -> None:
    page.goto(frontend_url)
    fill_form(page, "species", GENTOO)
    page.get_by_test_id("predict-species").click()

    expect(page.get_by_test_id("label-species")).to_have_text("Gentoo")
    bars = page.get_by_test_id("result-species").get_by_test_id("probability")
    expect(bars).to_have_count(3)
    assert bars.first.get_attribute("data-class") == "Gentoo"  # most likely class first
    percents = [float(t.split()[0]) for t in bars.locator(".bar-value").all_inner_texts()]
    assert abs(sum(percents) - 100) < 0.5 and percents[0] > 50

    fill_form(page, "body_mass", {"species": "Gentoo", "bill_length_mm": "47.5",
                                  "flipper_length_mm": "217", "sex": "male"})
    page.get_by_test_id("predict-body_mass").click()
    expect(page.get_by_test_id("unit-body_mass")).to_have_text("g")
    grams = float(page.get_by_test_id("value-body_mass").inner_text())
    assert 3500 < grams < 6500

    page.screenshot(path=artifacts_dir / "frontend-prediction.png", full_page=True)
    assert page.console_errors == []


def test_the_form_starts_at_the_example_and_shows_errors_and_warnings(
    page: Page, frontend_url: str, backend_url: str, artifacts_dir: Path,
) -> None:
    example = httpx.get(f"{backend_url}/models/species").json()["example"]
    page.goto(frontend_url)
    for field, value in example.items():  # every field pre-filled with the training example
        control = page.get_by_test_id(f"input-species-{field}")
        if isinstance(value, str):
            expect(control.locator("option:checked")).to_have_text(value)
        else:
            expect(control).to_have_value(f"{round(value, 2):g}")

    fill_form(page, "species", {**GENTOO, "flipper_length_mm": ""})
    page.get_by_test_id("predict-species").click()
    form = page.get_by_test_id("form-species")
    missing = form.locator("[data-field=flipper_length_mm]").get_by_test_id(
        "error-species-flipper_length_mm")
    expect(missing).to_be_visible()
    expect(missing).to_contain_text("required")
    flipper = page.get_by_test_id("input-species-flipper_length_mm")
    expect(flipper).to_have_attribute("aria-invalid", "true")
    described_by = flipper.get_attribute("aria-describedby").split()
    assert described_by == [f"{flipper.get_attribute('id')}-hint", missing.get_attribute("id")]
    expect(page.locator(f"#{described_by[0]}")).to_contain_text("trained on")
    expect(form.get_by_test_id("error-species-island")).to_be_hidden()
    expect(page.get_by_test_id("label-species")).to_have_count(0)
    page.screenshot(path=artifacts_dir / "frontend-field-errors.png", full_page=True)
    assert axe_findings(page) == []  # the error messages, as a screen reader meets them

    # fixed, with a bill longer than any in training: the answer comes, with a warning
    fill_form(page, "species", {**GENTOO, "bill_length_mm": "61"})
    page.get_by_test_id("predict-species").click()
    expect(page.get_by_test_id("label-species")).to_have_text("Gentoo")
    expect(missing).to_be_hidden()
    expect(flipper).not_to_have_attribute("aria-invalid", "true")
    assert flipper.get_attribute("aria-describedby") == f"{flipper.get_attribute('id')}-hint"
    expect(page.get_by_test_id("warnings-species").get_by_test_id("warning")).to_have_text(
        ["bill_length_mm 61.0 is above the training maximum 59.6"])
    page.screenshot(path=artifacts_dir / "frontend-warning.png", full_page=True)


def test_the_history_charts_each_models_primary_metric_per_release(
    page: Page, frontend_url: str, backend_url: str, published: dict[str, object],
    artifacts_dir: Path,
) -> None:
    releases = httpx.get(f"{backend_url}/releases").json()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(frontend_url)

    for model in ("species", "body_mass"):
        chart = page.get_by_test_id(f"chart-{model}")
        points = chart.get_by_test_id("chart-point")
        expect(points).to_have_count(2)
        assert [p.get_attribute("data-release") for p in points.all()] == ["v1", "v2"]
        expected = [r["primary"][model]["value"] for r in reversed(releases)]
        assert [float(p.get_attribute("data-value")) for p in points.all()] == expected
        expect(chart.get_by_test_id("point-label")).to_have_count(2)  # every point labelled

        # the gate: the live release's value less (or plus) the tolerance, shaded up to it
        metric = httpx.get(f"{backend_url}/models/{model}").json()["primary_metric"]
        live = expected[-1]
        threshold = live - metric["tolerance"] if metric["higher_is_better"] \
            else live + metric["tolerance"]
        gate = chart.get_by_test_id("gate-line")
        assert float(gate.get_attribute("data-value")) == pytest.approx(threshold)
        expect(chart.get_by_test_id("tolerance-band")).to_have_count(1)
        expect(page.get_by_test_id(f"gate-legend-{model}")).to_contain_text(
            f"tolerance {metric['tolerance']:g}")
        # the axis holds every value and the gate, and spans at least four tolerances
        low, high = (float(chart.get_attribute(a)) for a in ("data-axis-low", "data-axis-high"))
        assert low <= min(*expected, threshold) and high >= max(*expected, threshold)
        assert high - low >= 4 * metric["tolerance"]
    assert page.get_by_test_id("chart-species").locator("polyline").count() == 1

    rows = page.get_by_test_id("history-table").get_by_test_id("release-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("v2")
    expect(rows.first).to_contain_text("live")
    assert rows.first.get_attribute("data-sha") == published["shas"][-1]
    table = page.get_by_test_id("history-table")  # fits at 1280 px: no sideways scrolling
    assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")

    def ready() -> None:
        expect(page.get_by_test_id("release-row")).to_have_count(2)
        expect(page.locator(".model-card")).to_have_count(2)

    # The whole page at a desktop's and a phone's width: it fits (the table too), axe passes.
    check_at_both_widths(page, frontend_url, "frontend", artifacts_dir, ready)
    assert page.console_errors == []


def test_a_release_from_uncommitted_changes_is_marked(page: Page, frontend_url: str) -> None:
    # The backend's answers with `source_dirty` (the manifest's git_dirty) set, as for a
    # release trained from uncommitted changes, whatever this backend's release says.
    def dirty(route) -> None:
        answer = route.fetch()
        body = answer.json()
        for row in body if isinstance(body, list) else [body]:
            row["source_dirty"] = True
        route.fulfill(response=answer, json=body)

    page.route("**/api/version", dirty)
    page.route("**/api/releases", dirty)
    page.goto(frontend_url)
    expect(page.get_by_test_id("release-dirty")).to_have_text("Uncommitted changes")
    expect(page.get_by_test_id("release-source-commit")).to_have_text("2222222+dirty")
    rows = page.get_by_test_id("history-table").get_by_test_id("release-row")
    expect(rows.first.get_by_test_id("dirty-marker")).to_have_text("+dirty")


def test_a_banner_says_the_backend_is_down_and_the_page_recovers_when_it_returns(
    page: Page, frontend_dist: Path, hub_url: str, published: dict[str, object],
    tmp_path: Path, artifacts_dir: Path,
) -> None:
    backend_port = free_port()
    frontend = frontend_service(frontend_dist, f"http://127.0.0.1:{backend_port}",
                                tmp_path / "frontend.log").start()
    backend = backend_service(hub_url, str(published["repo_id"]), tmp_path / "backend",
                              port=backend_port)
    try:
        page.goto(frontend.url)
        banner = page.get_by_test_id("status-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Cannot reach the backend")
        expect(page.get_by_test_id("status-countdown")).to_contain_text("Checking again in")
        # the message is a polite status region; the ticking countdown is outside it
        status = page.get_by_role("status").filter(has_text="Cannot reach the backend")
        expect(status).to_have_count(1)
        expect(status.get_by_test_id("status-countdown")).to_have_count(0)
        expect(page.get_by_role("heading", name="Live release")).to_be_visible()
        page.screenshot(path=artifacts_dir / "frontend-backend-down.png", full_page=True)

        backend.start(timeout=90)
        expect(banner).to_be_hidden(timeout=30_000)
        expect(page.get_by_test_id("release-tag")).to_have_text("v2")
    finally:
        backend.stop()
        frontend.stop()


def test_a_banner_says_why_the_backend_is_not_ready(
    page: Page, frontend_dist: Path, not_ready_backend_url: str, tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    # The backend's Hub does not answer and it has no cache nor bundled release: it stays up
    # (/health) but not ready (/ready 503 with the reason).
    with frontend_service(frontend_dist, not_ready_backend_url,
                          tmp_path / "frontend.log") as frontend:
        # "...; retrying in N s" counts up between our read and the page's: compare the rest
        reason = re.split(r"; retrying in \d+ s",
                          _settled_not_ready_reason(not_ready_backend_url))[0]
        assert "no bundled release" in reason
        page.goto(frontend.url)

        banner = page.get_by_test_id("status-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("not ready")
        expect(page.get_by_test_id("status-message")).to_contain_text(reason)
        page.screenshot(path=artifacts_dir / "frontend-not-ready.png", full_page=True)


def _settled_not_ready_reason(backend_url: str, timeout: float = 30.0) -> str:
    """/ready's reason once the first load has given up ("loading the first release" before)."""
    deadline = time.monotonic() + timeout
    while True:
        reason = httpx.get(f"{backend_url}/ready").json()["reason"]
        if "loading the first release" not in reason or time.monotonic() > deadline:
            return reason
        time.sleep(0.2)


def test_a_hub_outage_costs_only_the_history_panel(
    page: Page, frontend_dist: Path, tmp_path: Path, artifacts_dir: Path,
) -> None:
    # The Hub does not answer and nothing is cached: the backend serves the release bundled in
    # its image, and /releases (which needs the Hub) answers 503.
    assets = tmp_path / "assets"
    build_release(assets, FRONTEND_MODELS, release=3)
    dead_hub = f"http://127.0.0.1:{free_port()}"
    backend = backend_service(dead_hub, "tests/offline", tmp_path / "backend", port=free_port(),
                              assets_dir=assets).start(timeout=90)
    frontend = None
    try:
        assert httpx.get(f"{backend.url}/releases").status_code == 503
        frontend = frontend_service(frontend_dist, backend.url, tmp_path / "frontend.log").start()
        page.goto(frontend.url)

        expect(page.get_by_test_id("release-tag")).to_have_text("v3")
        expect(page.get_by_test_id("release-source")).to_have_text("bundled")
        expect(page.get_by_test_id("source-warning")).to_be_visible()
        expect(page.get_by_test_id("source-warning")).to_contain_text("bundled")
        expect(page.get_by_test_id("status-banner")).to_be_hidden()
        history_error = page.get_by_test_id("history-error")
        expect(history_error).to_contain_text("Release history unavailable")
        expect(history_error).to_contain_text("Trying again")

        fill_form(page, "species", GENTOO)
        page.get_by_test_id("predict-species").click()
        expect(page.get_by_test_id("label-species")).to_have_text("Gentoo")
        page.screenshot(path=artifacts_dir / "frontend-bundled.png", full_page=True)
        assert page.console_errors == []
    finally:
        if frontend is not None:
            frontend.stop()
        backend.stop()


def test_a_release_whose_signature_the_backend_checked_shows_verified(
    page: Page, frontend_dist: Path, tmp_path: Path, hf_api, repo_id: str, hub_url: str,
) -> None:
    key, _, public_key = key_files(tmp_path)
    build_release(tmp_path / "release", FRONTEND_MODELS, release=1)
    publish_release(hf_api, repo_id, tmp_path / "release", cache_dir=tmp_path / "hf-cache",
                    signing_key=key)
    backend = backend_service(hub_url, repo_id, tmp_path / "backend", port=free_port(),
                              env={"HUBSHIP_VERIFY_KEY": str(public_key)}).start(timeout=90)
    frontend = None
    try:
        frontend = frontend_service(frontend_dist, backend.url, tmp_path / "frontend.log").start()
        page.goto(frontend.url)
        expect(page.get_by_test_id("release-tag")).to_have_text("v1")
        expect(page.get_by_test_id("release-verified")).to_have_text("verified")
        assert page.console_errors == []
    finally:
        if frontend is not None:
            frontend.stop()
        backend.stop()


def test_an_api_rewrite_that_reaches_a_web_page_is_named(
    page: Page, frontend_dist: Path, tmp_path: Path,
) -> None:
    # /api forwarded to a site instead of the backend: every answer is its index.html, 200.
    site = frontend_service(frontend_dist, "http://127.0.0.1:9", tmp_path / "site.log").start()
    misrouted = None
    try:
        misrouted = frontend_service(frontend_dist, site.url, tmp_path / "frontend.log").start()
        page.goto(misrouted.url)
        message = page.get_by_test_id("status-message")
        expect(message).to_contain_text("not JSON")
        expect(message).to_contain_text("vercel.json")
        assert page.console_errors == []
    finally:
        if misrouted is not None:
            misrouted.stop()
        site.stop()
