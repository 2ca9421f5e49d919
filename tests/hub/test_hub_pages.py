"""The HTML pages a person uses to look at what was published, and the hub's start."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from pathlib import Path

import httpx

CARD = """---
tags: [hubship]
---

# demo — v2 <script>alert(1)</script>

| metric | value |
| --- | ---: |
| mae | 249.52 |

![body_mass: predicted vs actual](plots/body_mass.png) [manifest](manifest.json)
[elsewhere](https://example.org/x) [bad](javascript:alert(1))
"""


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


def test_the_model_card_is_rendered_with_its_plots_and_nothing_of_it_runs(hf_api, repo_id,
                                                                         hub_url):
    hf_api.create_repo(repo_id)
    first = hf_api.upload_file(path_or_fileobj="# demo — v1\n".encode(),
                               path_in_repo="README.md", repo_id=repo_id,
                               commit_message="v1").oid
    head = hf_api.upload_file(path_or_fileobj=CARD.encode(), path_in_repo="README.md",
                              repo_id=repo_id, commit_message="v2").oid

    page = httpx.get(f"{hub_url}/{repo_id}")
    html = page.text
    assert "<h1>demo — v2 &lt;script&gt;alert(1)&lt;/script&gt;</h1>" in html  # text, not HTML
    assert "<script" not in html
    assert '<td class="align-right">249.52</td>' in html  # a class: no inline style needed
    # relative paths point at the files of the shown commit, as on huggingface.co
    assert f'<img src="/{repo_id}/resolve/{head}/plots/body_mass.png"' in html
    assert f'href="/{repo_id}/resolve/{head}/manifest.json"' in html
    assert 'href="https://example.org/x"' in html and 'href="javascript:' not in html
    assert "Card metadata (YAML)" in html and "tags: [hubship]" in html
    # the stylesheet is the only style the page may use, and no script may run
    csp = page.headers["content-security-policy"]
    [css] = re.findall(r"<style>(.*?)</style>", html, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert "script-src" not in csp  # default-src 'none' covers it

    # the backend's commit_url: the repo as it was at that commit
    older = httpx.get(f"{hub_url}/{repo_id}/commit/{first}")
    assert older.status_code == 200
    assert "<h1>demo — v1</h1>" in older.text and "249.52" not in older.text
