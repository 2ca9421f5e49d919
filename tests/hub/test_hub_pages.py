"""The HTML pages a person uses to look at what was published, and the hub's start."""

from __future__ import annotations

import time
from pathlib import Path

import httpx


def test_index_and_repo_page_list_repos_commits_tags_and_files(hf_api, repo_id, hub_url):
    hf_api.create_repo(repo_id)
    hf_api.upload_file(path_or_fileobj=b"<b>", path_in_repo="models/m.joblib", repo_id=repo_id,
                       commit_message="release <1>")
    hf_api.create_tag(repo_id, tag="rel/1.0")

    index = httpx.get(hub_url)
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert f'href="/{repo_id}"' in index.text

    page = httpx.get(f"{hub_url}/{repo_id}")
    assert page.status_code == 200
    for shown in ("rel/1.0", "models/m.joblib", "release &lt;1&gt;", "initial commit", "main"):
        assert shown in page.text
    assert httpx.get(f"{hub_url}/nobody/nothing").status_code == 404


def test_an_open_hub_says_so_and_logs_one_line_per_request(start_hub):
    hub = start_hub()
    httpx.get(f"{hub.url}/api/models/nobody/nothing")
    expected = "GET /api/models/nobody/nothing 404"
    deadline = time.monotonic() + 10  # the line is written just after the response is sent
    while expected not in Path(hub.log_path).read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = Path(hub.log_path).read_text()
    assert "OPEN" in log
    assert expected in log
