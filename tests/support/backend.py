"""Small things the backend tests share (their releases come from `real_releases`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from huggingface_hub import HfApi

from hubship.serving.reload import FIRST_LOAD_REASON

ADMIN_TOKEN = "admin-secret-for-tests"


def log_text(service) -> str:
    """Everything a started `hubship.services.Service` wrote to its log."""
    return service.log_path.read_text(errors="replace") if service.log_path else ""


@contextmanager
def serving(app: FastAPI) -> Iterator[TestClient]:
    """A TestClient on `app`, once its first load (a background task) has finished."""
    with TestClient(app) as client:
        client.portal.call(app.state.reloader.loaded)
        yield client


def wait_for_first_load(url: str, *, timeout: float = 60.0) -> httpx.Response:
    """/ready of a backend process once its first load has finished (ready or not)."""
    deadline = time.monotonic() + timeout
    while True:
        ready = httpx.get(f"{url}/ready", timeout=10)
        if ready.status_code == 200 or ready.json()["reason"] != FIRST_LOAD_REASON:
            return ready
        if time.monotonic() > deadline:
            raise AssertionError(f"the first load did not finish within {timeout} s")
        time.sleep(0.05)


def wait_for(check, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


class PausingApi(HfApi):
    """The real client, except that resolving `revision` the first time waits for `resume`:
    a Hub that is slow to answer one call, at the moment the test chooses."""

    def __init__(self, *args: Any, revision: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.revision = revision
        self.paused, self.resume = threading.Event(), threading.Event()

    def model_info(self, repo_id: str, *args: Any, revision: str | None = None,
                   **kwargs: Any) -> Any:
        if revision == self.revision and not self.paused.is_set():
            self.paused.set()
            assert self.resume.wait(60), "the test never resumed the Hub call"
        return super().model_info(repo_id, *args, revision=revision, **kwargs)


class GatedEstimator:
    """A model whose predict_proba waits for `go`: a request that is still running."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.entered, self.go = threading.Event(), threading.Event()
        self.assume_finite: bool | None = None  # scikit-learn's config seen while predicting

    def __getattr__(self, name: str) -> Any:  # classes_, feature_names_in_, ...
        return getattr(self.inner, name)

    def predict_proba(self, features: Any) -> Any:
        import sklearn

        self.assume_finite = sklearn.get_config()["assume_finite"]
        self.entered.set()
        assert self.go.wait(60), "the test never let the prediction finish"
        return self.inner.predict_proba(features)


def model_libraries_in(pid: int) -> set[str]:
    """Which of numpy, pandas, scikit-learn and scipy process `pid` has loaded (their compiled
    extensions in /proc/<pid>/maps: an import loads them)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name in ("numpy", "pandas", "sklearn", "scipy")
            if f"/site-packages/{name}/" in maps}
