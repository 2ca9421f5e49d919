"""The backend's /docs (Swagger UI) and /redoc render its operations in headless Chromium with
no network but the backend itself: their scripts and styles come from the installed package,
never a CDN (a machine without internet, or a locked-down production network, shows them)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect


@pytest.fixture
def offline_page(page: Page, backend_url: str) -> Page:
    """`page` with every request to another host refused, as on a machine with no internet;
    the refused requests are kept in `page.outside` as (resource type, URL)."""
    own_host = urlsplit(backend_url).netloc
    outside: list[tuple[str, str]] = []

    def only_the_backend(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own_host:
            route.continue_()
        else:
            outside.append((route.request.resource_type, route.request.url))
            route.abort("internetdisconnected")

    page.context.route("**/*", only_the_backend)
    page.outside = outside
    return page


def test_swagger_ui_renders_the_operations_offline(offline_page: Page, backend_url: str) -> None:
    offline_page.goto(f"{backend_url}/docs")

    predict = offline_page.locator(".opblock-post", has_text="/models/species/predict")
    expect(predict).to_be_visible()
    expect(offline_page.locator(".opblock-get", has_text="/version")).to_be_visible()
    predict.locator(".opblock-summary").click()  # expands: the request body schema renders
    expect(predict.locator(".opblock-body")).to_contain_text("island")
    assert offline_page.outside == []
    assert offline_page.console_errors == []


def test_redoc_renders_the_operations_offline(offline_page: Page, backend_url: str) -> None:
    offline_page.goto(f"{backend_url}/redoc")

    expect(offline_page.get_by_role("heading", name="hubship backend")).to_be_visible()
    expect(offline_page.locator("[data-section-id^='operation/']").first).to_be_attached()
    expect(offline_page.locator("body")).to_contain_text("/models/species/predict")
    # ReDoc's script asks for one thing online: the "API docs by Redocly" logo, an image
    assert all(kind == "image" for kind, _ in offline_page.outside), offline_page.outside
    assert offline_page.console_errors == []
