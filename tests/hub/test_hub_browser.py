"""The hub in a real browser (Debian's headless Chromium): its pages as a person sees them
(the model card of releases made by the real models/train.py, with their plots), and a web
page on another origin cannot write to a tokenless hub: its requests reach the hub and are
refused."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

from playwright.sync_api import expect

from hubship.services import free_port
from tests.support.browser_checks import WIDTHS, check_at_both_widths

REPO = "team/models"
ATTACK = """<!doctype html><html><body>
<form id=form method=POST enctype="text/plain" action="{hub}/api/models/{repo}/commit/main">
<input type=hidden name='{{"key":"header","value":{{"summary":"form","x":"' value='"}}}}'>
</form>
<script>
const url = "{hub}/api/models/{repo}/commit/main";
const body = '{{"key":"header","value":{{"summary":"from a web page"}}}}\\n';
window.attack = Promise.allSettled([
  fetch(url, {{method: "POST", mode: "no-cors", body}}),                      // text/plain
  fetch(url, {{method: "POST", mode: "no-cors", body: new Blob([body])}}),    // no type
  fetch("{hub}/api/repos/create", {{method: "POST", mode: "no-cors",
        body: '{{"organization": "evil", "name": "repo"}}'}}),
]).then(() => "done");
</script></body></html>"""


def _serve(page: str) -> tuple[http.server.HTTPServer, str]:
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page.encode())

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}/"


def test_a_page_on_another_origin_cannot_commit_to_a_tokenless_hub(start_hub, api_for,
                                                                    browser):
    hub = start_hub()
    api = api_for(hub.url, False)
    api.create_repo(REPO)
    before = api.list_repo_commits(REPO)
    server, page_url = _serve(ATTACK.format(hub=hub.url, repo=REPO))
    try:
        context = browser.new_context()  # the session's Chromium (tests/conftest.py)
        page = context.new_page()
        page.goto(page_url)
        assert page.evaluate("window.attack") == "done"
        with page.expect_navigation():
            page.evaluate("document.getElementById('form').submit()")
        context.close()
    finally:
        server.shutdown()

    assert api.list_repo_commits(REPO) == before
    assert not api.repo_exists("evil/repo")
    log = Path(hub.log_path).read_text()
    # the browser did send them (so the hub, not the browser, refused them)
    assert log.count(f"POST /api/models/{REPO}/commit/main 403") == 3, log
    assert "POST /api/repos/create 403" in log


def test_the_repo_page_shows_the_model_card_with_its_plots(real_releases, hub_url, browser,
                                                           artifacts_dir):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    repo_url = f"{hub_url}/{real_releases.repo_id}"
    card = page.locator(".prose")

    def card_shown(release: str) -> None:
        expect(card.locator("h1")).to_contain_text(f"— {release}")
        expect(card.locator("table").first).to_be_visible()  # the metrics, a real table
        plots = card.locator("img")
        expect(plots).to_have_count(2)  # one per model of models/train.py
        page.wait_for_function(  # every plot loaded: the hub served it
            "[...document.querySelectorAll('.prose img')].every(i => i.naturalWidth > 0)")

    try:
        check_at_both_widths(page, repo_url, "hub-repo", artifacts_dir, lambda: card_shown("v2"),
                             axe_at=(WIDTHS["phone"],))
        page.set_viewport_size({"width": 1280, "height": 900})
        # v1's tag leads to the repo as it was at v1's commit (where /version's commit_url goes)
        refs = page.get_by_role("table", name="Branches and tags")
        refs.get_by_role("row").filter(has=page.get_by_role("cell", name="v1", exact=True)) \
            .get_by_role("link").click()
        card_shown("v1")
        assert page.url == f"{repo_url}/commit/{real_releases[1].sha}"
    finally:
        context.close()
