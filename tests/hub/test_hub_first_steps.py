"""What a person does first with the `hf` CLI and HfApi: whoami, repo ids without a namespace,
a wrong token, listing and searching repos, last commits, and what the hub leaves out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from huggingface_hub.errors import HfHubHTTPError

TOKEN = "s3cret-token"
HF = str(Path(sys.executable).with_name("hf"))


@pytest.fixture
def hub(start_hub):
    return start_hub(token=TOKEN, args=["--lfs-threshold-bytes", "100000"])


def _hf(hub_url: str, tmp_path: Path, *args: str, xet: bool = False,
        token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub_url, HF_TOKEN=token, HF_HOME=str(tmp_path / "hf-home"),
               HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    if not xet:
        env["HF_HUB_DISABLE_XET"] = "1"
    return subprocess.run([HF, *args], env=env, capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)


def test_hf_cli_whoami_upload_and_download_without_a_namespace(hub, tmp_path):
    whoami = _hf(hub.url, tmp_path, "auth", "whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert "local" in whoami.stdout

    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model.joblib").write_bytes(os.urandom(300_000))  # over the LFS threshold
    (folder / "config.json").write_text("{}")
    upload = _hf(hub.url, tmp_path, "upload", "my-model", str(folder))
    assert upload.returncode == 0, upload.stdout + upload.stderr
    download = _hf(hub.url, tmp_path, "download", "my-model", "--local-dir", "got")
    assert download.returncode == 0, download.stdout + download.stderr
    for name in ("model.joblib", "config.json"):
        assert (tmp_path / "got" / name).read_bytes() == (folder / name).read_bytes()
    listed = httpx.get(f"{hub.url}/api/models/local/my-model",
                       headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert listed["id"] == "local/my-model"


def test_hf_cli_with_xet_on_is_told_how_to_switch_it_off(hub, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "model.joblib").write_bytes(os.urandom(300_000))
    upload = _hf(hub.url, tmp_path, "upload", "xet-model", str(folder), xet=True)
    assert upload.returncode != 0
    # hf_xet shows the status and the route only; the hub's answer and its log say the fix
    assert "501" in upload.stderr and "xet-write-token" in upload.stderr
    assert "Set HF_HUB_DISABLE_XET=1" in Path(hub.log_path).read_text()
    assert _hf(hub.url, tmp_path, "upload", "xet-model", str(folder)).returncode == 0


def test_whoami_and_a_wrong_token_on_reads(hub, api_for):
    owner, wrong = api_for(hub.url, TOKEN), api_for(hub.url, "not-the-token")
    assert owner.whoami()["name"] == "local"
    with pytest.raises(HfHubHTTPError) as exc:
        wrong.whoami()
    assert exc.value.response.status_code == 401
    owner.create_repo("team/public")
    assert api_for(hub.url, False).model_info("team/public").id == "team/public"  # anonymous
    with pytest.raises(HfHubHTTPError) as exc:  # a wrong token is an error, not anonymous
        wrong.model_info("team/public")
    assert exc.value.response.status_code == 401
    assert "Invalid credentials" in exc.value.response.headers["X-Error-Message"]


def test_a_repo_id_without_a_namespace_is_the_users(start_hub, api_for, tmp_path):
    hub = start_hub(args=["--user", "alice"])
    api = api_for(hub.url)
    url = api.create_repo("penguins")
    assert url.repo_id == "alice/penguins"
    api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id="penguins")
    assert api.model_info("penguins").id == "alice/penguins"
    assert api.list_repo_files("alice/penguins") == ["config.json"]
    api.create_tag("penguins", tag="v1")
    assert [t.name for t in api.list_repo_refs("penguins").tags] == ["v1"]
    api.delete_repo("penguins")
    assert not api.repo_exists("alice/penguins")


def test_list_models_by_author_search_and_limit(start_hub, api_for):
    hub = start_hub(token=TOKEN)
    owner, anonymous = api_for(hub.url, TOKEN), api_for(hub.url, False)
    for repo in ("team/penguins", "team/puffins", "other/penguins-v2"):
        owner.create_repo(repo)
    owner.create_repo("team/hidden", private=True)
    assert sorted(m.id for m in owner.list_models()) == [
        "other/penguins-v2", "team/hidden", "team/penguins", "team/puffins"]
    assert sorted(m.id for m in anonymous.list_models()) == [
        "other/penguins-v2", "team/penguins", "team/puffins"]
    assert sorted(m.id for m in owner.list_models(author="team")) == [
        "team/hidden", "team/penguins", "team/puffins"]
    assert sorted(m.id for m in owner.list_models(search="PENGUIN")) == [
        "other/penguins-v2", "team/penguins"]
    assert len(list(owner.list_models(limit=2))) == 2


def test_expand_gives_each_entry_its_last_commit(hf_api, repo_id):
    hf_api.create_repo(repo_id)
    first = hf_api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id=repo_id,
                               commit_message="add a")
    second = hf_api.upload_file(path_or_fileobj=b"2", path_in_repo="dir/b.txt",
                                repo_id=repo_id, commit_message="add b")
    hf_api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id=repo_id,
                       commit_message="same a")  # unchanged content: no new commit

    entries = {e.path: e for e in hf_api.list_repo_tree(repo_id, expand=True)}
    assert entries["a.txt"].last_commit.oid == first.oid
    assert entries["a.txt"].last_commit.title == "add a"
    assert entries["dir"].last_commit.oid == second.oid
    info = {i.path: i for i in hf_api.get_paths_info(repo_id, ["a.txt", "dir/b.txt"],
                                                     expand=True)}
    assert info["a.txt"].last_commit.oid == first.oid
    assert info["dir/b.txt"].last_commit.oid == second.oid
    assert info["dir/b.txt"].last_commit.date.utcoffset().total_seconds() == 0
    assert all(e.last_commit is None for e in hf_api.list_repo_tree(repo_id))


@pytest.mark.parametrize(("method", "path", "what"), [
    ("GET", "/api/models/team/models/discussions", "/api/models/team/models/discussions"),
    ("POST", "/api/repos/move", "/api/repos/move"),
    ("POST", "/api/models/team/models/super-squash/main", "super-squash"),
    ("GET", "/api/datasets/team/data", "/api/datasets/team/data"),
    ("GET", "/api/spaces", "/api/spaces"),
    ("GET", "/team/models.git/info/refs?service=git-upload-pack", "git over HTTP"),
])
def test_what_the_hub_leaves_out_says_so(hub_url, method, path, what):
    answer = httpx.request(method, hub_url + path, json={} if method == "POST" else None)
    assert answer.status_code == 501
    assert "not supported by this hub" in answer.json()["error"] and what in answer.json()["error"]


def test_pull_requests_are_not_supported(hf_api, repo_id):
    hf_api.create_repo(repo_id)
    with pytest.raises(HfHubHTTPError, match="pull requests"):
        hf_api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id,
                           create_pr=True)
