"""Repo webhooks, as huggingface.co sends them (`hubship hub --webhook URL --webhook-secret S`).

Every repo update (a commit, a tag or branch created or deleted) records one delivery per
target in the same SQLite transaction as the update, so a delivery is durable exactly when the
update is. A background thread then POSTs it: the payload huggingface.co sends for the scope
`repo.content` (`event`, `repo` with `headSha`, `updatedRefs`, `webhook`), the secret verbatim in
`X-Webhook-Secret`. A target that is down, slow or answers non-2xx is retried with backoff
(`RETRY_DELAYS`), then given up on, each failure logged (the URL without its query, never the
secret); a restarted hub resumes the pending deliveries. Nothing here ever delays a commit.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import orjson

from hubship.hub.records import Repo

log = logging.getLogger("hubship.hub")
RETRY_DELAYS = (1, 2, 5, 15, 60, 300)  # seconds before attempts 2, 3, ...
TIMEOUT = httpx.Timeout(10.0, connect=5.0)

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id INTEGER PRIMARY KEY, target TEXT NOT NULL, payload BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL);
"""


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str | None = None

    @property
    def id(self) -> str:
        return hashlib.sha1(self.url.encode(), usedforsecurity=False).hexdigest()[:24]

    @property
    def shown(self) -> str:
        """The URL for logs: no query string (a user may put `?secret=` in it)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"


def payload(repo: Repo, public_url: str, head_sha: str | None,
            updated_refs: list[tuple[str, str | None, str | None]], hook: Webhook) -> bytes:
    """The body huggingface.co sends on a repo content update (webhook version 3)."""
    return orjson.dumps({
        "event": {"action": "update", "scope": "repo.content"},
        "repo": {
            "type": "model", "name": repo.repo_id, "id": f"{repo.id:024x}",
            "private": repo.private,
            "url": {"web": f"{public_url}/{repo.repo_id}",
                    "api": f"{public_url}/api/models/{repo.repo_id}"},
            "headSha": head_sha, "owner": {"id": f"{sum(repo.namespace.encode()):024x}"},
        },
        "updatedRefs": [{"ref": ref, "oldSha": old, "newSha": new}
                        for ref, old, new in updated_refs],
        "webhook": {"id": hook.id, "version": 3},
    })


def record(db: sqlite3.Connection, hooks: list[Webhook], repo: Repo, public_url: str,
           head_sha: str | None, updated_refs: list[tuple[str, str | None, str | None]]) -> None:
    """Queue one delivery per target, inside the caller's write transaction."""
    now = time.time()
    db.executemany(
        "INSERT INTO webhook_deliveries (target, payload, next_at) VALUES (?, ?, ?)",
        [(hook.url, payload(repo, public_url, head_sha, updated_refs, hook), now)
         for hook in hooks],
    )


class WebhookSender:
    """The background thread that delivers queued webhooks."""

    def __init__(self, db_path: str, hooks: list[Webhook]) -> None:
        self.db_path, self.hooks = db_path, {hook.url: hook for hook in hooks}
        self.wake, self.stopping = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(15)

    def _run(self) -> None:
        with httpx.Client(timeout=TIMEOUT) as client:
            while not self.stopping.is_set():
                if not self._deliver_due(client):
                    self.wake.wait(1.0)
                    self.wake.clear()

    def _deliver_due(self, client: httpx.Client) -> bool:
        """Try every delivery that is due; True when one was tried."""
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        try:
            due = db.execute(
                "SELECT id, target, payload, attempts FROM webhook_deliveries "
                "WHERE next_at <= ? ORDER BY id LIMIT 20", (time.time(),)).fetchall()
            for delivery_id, target, body, attempts in due:
                if self.stopping.is_set():
                    break
                hook = self.hooks.get(target)
                if hook is None:  # a target no longer configured
                    db.execute("DELETE FROM webhook_deliveries WHERE id = ?", (delivery_id,))
                    continue
                problem = _post(client, hook, body)
                if problem is None:
                    db.execute("DELETE FROM webhook_deliveries WHERE id = ?", (delivery_id,))
                elif attempts < len(RETRY_DELAYS):
                    delay = RETRY_DELAYS[attempts]
                    log.warning("webhook to %s failed (%s); retrying in %d s", hook.shown,
                                problem, delay)
                    db.execute("UPDATE webhook_deliveries SET attempts = ?, next_at = ? "
                               "WHERE id = ?", (attempts + 1, time.time() + delay, delivery_id))
                else:
                    log.error("webhook to %s failed (%s); gave up after %d attempts",
                              hook.shown, problem, attempts + 1)
                    db.execute("DELETE FROM webhook_deliveries WHERE id = ?", (delivery_id,))
            return bool(due)
        finally:
            db.close()


def _post(client: httpx.Client, hook: Webhook, body: bytes) -> str | None:
    """POST one delivery; None on a 2xx answer, else what went wrong."""
    headers = {"Content-Type": "application/json", "User-Agent": "hubship-hub-webhooks"}
    if hook.secret is not None:
        headers["X-Webhook-Secret"] = hook.secret
    try:
        response = client.post(hook.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    if response.is_success:
        log.info("webhook to %s delivered (%d)", hook.shown, response.status_code)
        return None
    return f"HTTP {response.status_code}"
