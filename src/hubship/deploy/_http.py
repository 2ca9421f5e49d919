"""One POST with timeouts, retries on transient failures, and redacted error messages.

Transient: the connection failed or timed out, or the service answered 429 or 5xx. Those are
retried with exponential backoff (tenacity, `RetryPolicy`). Any other 4xx is final: asking
again will not help.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from hubship.errors import DeployError, redact

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure."""

    attempts: int = 3
    backoff: float = 1.0  # seconds before the 2nd attempt, doubled each time
    max_backoff: float = 10.0

    def retrying(self, *transient: type[BaseException]) -> Retrying:
        """`attempts` tries in all, `backoff` s apart and doubling (at most `max_backoff`),
        while the failure is one of `transient`; the last failure is raised as it is."""
        return Retrying(retry=retry_if_exception_type(transient),
                        stop=stop_after_attempt(max(1, self.attempts)),
                        wait=wait_exponential(multiplier=self.backoff, max=self.max_backoff),
                        reraise=True)


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class Endpoint:
    """Who we are talking to, for messages: a name, a URL safe to print, and what to do
    about a refused token (`auth_hint`) or another final HTTP status (`status_hints`)."""

    service: str
    display_url: str
    auth_hint: str
    secrets: Sequence[str]
    status_hints: Mapping[int, str] = field(default_factory=dict)

    def error(self, message: str, *, hint: str | None = None) -> DeployError:
        return DeployError(
            redact(message, self.secrets), hint=redact(hint, self.secrets) if hint else None
        )


@contextmanager
def http_client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    """Use the caller's client, or a fresh one with our timeouts that is closed afterwards."""
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False) as own:
        yield own


class _Transient(Exception):
    """An answer worth asking again for (429, 5xx); `problem` says what it was."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def post(
    client: httpx.Client,
    endpoint: Endpoint,
    url: str,
    *,
    retry: RetryPolicy,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST, retrying transient failures; return a 2xx response or raise a DeployError."""

    def attempt() -> httpx.Response:
        response = client.post(url, json=json, headers=headers)
        if response.is_success:
            return response
        if response.status_code in RETRY_STATUSES:
            raise _Transient(f"answered HTTP {response.status_code}: {body_excerpt(response)}")
        raise _refused(endpoint, response)

    try:
        # connection failures, timeouts, 429 and 5xx: `retry.attempts` tries with backoff
        return retry.retrying(httpx.TransportError, _Transient)(attempt)
    except httpx.TimeoutException as exc:
        problem = f"did not answer in time ({type(exc).__name__})"
    except httpx.TransportError as exc:
        problem = f"could not be reached ({type(exc).__name__}: {exc})"
    except _Transient as exc:
        problem = exc.problem
    attempts = max(1, retry.attempts)
    raise endpoint.error(
        f"{endpoint.service} at {endpoint.display_url} {problem} "
        f"(gave up after {attempts} attempt{'s' if attempts > 1 else ''})",
        hint=f"{endpoint.service} may be down or slow; retry the deploy later, or check its "
        "status page",
    )


def _refused(endpoint: Endpoint, response: httpx.Response) -> DeployError:
    """The final answer to a request refused as sent (a 4xx other than 429)."""
    if response.status_code in (401, 403):
        return endpoint.error(
            f"{endpoint.service} refused the credentials (HTTP {response.status_code}) "
            f"at {endpoint.display_url}: {body_excerpt(response)}",
            hint=endpoint.auth_hint,
        )
    return endpoint.error(
        f"{endpoint.service} answered HTTP {response.status_code} at "
        f"{endpoint.display_url}: {body_excerpt(response)}",
        hint=endpoint.status_hints.get(
            response.status_code,
            "the request was refused as sent; check the settings it was built from",
        ),
    )


def body_excerpt(response: httpx.Response, limit: int = 300) -> str:
    """A short, printable view of an answer: its `detail`/`message` if JSON, else the text."""
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
    else:
        if isinstance(data, dict):
            text = str(data.get("detail") or data.get("message") or data.get("errors") or data)
        else:
            text = str(data)
    text = " ".join(text.split()) or "(empty answer)"
    return text if len(text) <= limit else text[: limit - 3] + "..."
