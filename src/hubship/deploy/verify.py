"""Proof that production serves a release: poll `GET {backend}/version` until it reports the sha.

The deploy APIs only say a deploy *started* (and Railway has been seen to rebuild an old commit
and still report success), so the loop ends here, on what production actually answers.

Several replicas behind a load balancer: each `/version` answer names the replica that gave it
(`replica`), so with `replicas=N` we poll, N requests per round, each on a new connection so
the balancer may route it elsewhere, until N distinct replicas last answered with the sha.
On a timeout the error lists every replica seen and what it served last (a replica with no
release loaded yet names itself in its 503, with its reason); a replica restarted under a new
name counts as a new one (its old name stays in the list with what it served).
"""

from __future__ import annotations

import time

import httpx
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from hubship.errors import VerifyError, redact
from hubship.serving.answers import ErrorDetail, ReloadAnswer, VersionInfo, VersionNotReady

REQUEST_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def verify_live(
    backend_url: str,
    sha: str,
    *,
    timeout: float,
    interval: float = 2.0,
    client: httpx.Client | None = None,
    progress: bool = True,
    replicas: int = 1,
) -> VersionInfo:
    """Return production's `/version` answer once it serves `sha`, else raise VerifyError.

    `sha` may be abbreviated (7 characters or more). `replicas` > 1 requires that many
    distinct replicas serving it (see the module docstring).
    """
    if len(sha) < 7:
        raise VerifyError(f"{sha!r} is too short to identify a release",
                          hint="pass the full commit sha the publish step printed")
    url = f"{backend_url.rstrip('/')}/version"
    console = Console(stderr=True, quiet=not progress)
    headers = {"Connection": "close"} if replicas > 1 else {}
    poll = _Poll(sha, replicas)
    own_client = client is None
    http = client or httpx.Client(timeout=REQUEST_TIMEOUT)
    deadline = time.monotonic() + timeout
    try:
        with console.status(Text(f"waiting for {url} to serve {sha[:12]}")) as status:
            while True:
                # as many requests as replicas per round: a balancer that picks at random
                # (Railway does) shows every replica within a few rounds, even at N = 50
                for _ in range(replicas):
                    observation = poll.ask(http, url, headers)
                    if observation != poll.last_said:  # the backend's words: never markup
                        console.print(f"  {url}: {observation}", highlight=False, markup=False)
                        poll.last_said = observation
                    if poll.done:
                        break
                if poll.answer is not None and poll.done:
                    console.print(Text(f"production serves {sha[:12]}", style="green"))
                    return poll.answer
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                status.update(Text(f"waiting for {url} to serve {sha[:12]}: {observation}, "
                                   f"{remaining:.0f} s left"))
                time.sleep(min(interval, remaining))
    finally:
        if own_client:
            http.close()
    raise poll.failure(url, timeout)


def served_version(
    backend_url: str, *, client: httpx.Client | None = None
) -> VersionInfo | None:
    """Production's `/version` answer now (one request), or None when it serves no release,
    does not answer, or is not a hubship backend. A bundled release answers with `sha` null."""
    url = f"{backend_url.rstrip('/')}/version"
    try:
        if client is not None:
            response = client.get(url)
        else:
            response = httpx.get(url, timeout=REQUEST_TIMEOUT)
    except httpx.HTTPError:
        return None
    answer = read_version(response)
    return answer if isinstance(answer, VersionInfo) else None


def read_version(response: httpx.Response) -> VersionInfo | VersionNotReady | str:
    """A `/version` answer, read with the backend's own models (the release it serves, or
    which replica has none loaded yet and why), or a short description of what came back
    instead."""
    if response.status_code == 503:
        try:
            return VersionNotReady.model_validate_json(response.content)
        except ValidationError:
            pass
        try:  # a backend older than VersionNotReady
            detail = ErrorDetail.model_validate_json(response.content).detail
        except ValidationError:
            detail = "HTTP 503"
        return f"up, but no release loaded ({detail})"
    if response.status_code != 200:
        return f"HTTP {response.status_code}, not a /version answer"
    try:
        return VersionInfo.model_validate_json(response.content)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"])) or "the body"
        return f"HTTP 200, not a /version answer ({where}: {first['msg']})"


def serves(answer: VersionInfo | ReloadAnswer | None, sha: str) -> bool:
    """Whether a `/version` (or reload) answer is release `sha` (full or abbreviated, 7+
    characters)."""
    served = answer.sha if answer else None
    return len(sha) >= 7 and served is not None and served.startswith(sha)


UNNAMED = "(unnamed)"  # a backend older than replica ids on /version


class _Poll:
    """What production has answered so far: the last answer of each replica."""

    def __init__(self, sha: str, replicas: int) -> None:
        self.sha, self.replicas = sha, replicas
        self.answer: VersionInfo | None = None
        # replica id -> its last /version answer (VersionNotReady: it had no release loaded)
        self.latest: dict[str, VersionInfo | VersionNotReady] = {}
        self.last_problem: str | None = None
        self.last_said: str | None = None

    @property
    def on_sha(self) -> list[str]:
        return [replica for replica, answer in self.latest.items()
                if isinstance(answer, VersionInfo) and serves(answer, self.sha)]

    @property
    def not_ready(self) -> list[str]:
        return sorted(replica for replica, answer in self.latest.items()
                      if isinstance(answer, VersionNotReady))

    @property
    def done(self) -> bool:
        return len(self.on_sha) >= self.replicas

    def ask(self, http: httpx.Client, url: str, headers: dict[str, str]) -> str:
        """One request; returns a short description of what production serves."""
        try:
            response = http.get(url, headers=headers)
        except httpx.TimeoutException:
            return self._problem("no answer in time")
        except httpx.TransportError as exc:
            return self._problem(f"no answer ({type(exc).__name__}: {exc})")
        answer = read_version(response)
        if isinstance(answer, str):
            return self._problem(answer)
        replica = answer.replica or UNNAMED
        self.latest[replica] = answer
        if isinstance(answer, VersionNotReady):
            said = f"up, but replica {replica} has {describe(answer)}"
            # with several replicas, the list of what each answered last says it
            self.last_problem = said if self.replicas == 1 else None
        else:
            self.answer, self.last_problem = answer, None
            said = describe(answer)
            if self.replicas > 1:
                said += f" on replica {replica}"
        if self.replicas == 1:
            return said
        return f"{said}; {len(self.on_sha)} of {self.replicas} replicas serve {self.sha[:12]}"

    def _problem(self, text: str) -> str:
        self.last_problem = text
        return text

    def failure(self, url: str, timeout: float) -> VerifyError:
        waited = f"after {timeout:.0f} s"
        if self.replicas > 1 and self.latest:
            return self._replicas_failure(url, waited)
        if self.answer is None:
            return VerifyError(
                redact(f"production did not serve {self.sha[:12]} {waited}: {url} gave "
                       f"{self.last_problem or 'no answer'}"),
                hint="check BACKEND_URL, that the deploy finished (the host's deploy logs), "
                "and that the backend can reach the Hub",
            )
        source = self.answer.source
        hint = "the deploy may have failed or still be running: check the host's deploy logs"
        if source in ("cache", "bundled"):
            hint = (f"the backend fell back to its {source} release, so it could not load "
                    "from the Hub: check HF_TOKEN, HF_ENDPOINT, HF_REPO_ID and MODEL_REVISION "
                    "on the backend")
        now = describe(self.answer)
        if self.last_problem:
            now += f"; last request: {self.last_problem}"
        return VerifyError(
            redact(f"production still serves {now}, not {self.sha[:12]} {waited} ({url})"),
            hint=hint,
        )

    def _replicas_failure(self, url: str, waited: str) -> VerifyError:
        seen = "; ".join(f"{replica}: {describe(answer)}"
                         for replica, answer in sorted(self.latest.items()))
        message = (f"production did not serve {self.sha[:12]} on {self.replicas} replicas "
                   f"{waited} ({url}): {len(self.on_sha)} of the {len(self.latest)} replicas "
                   f"seen serve it; last answers: {seen}")
        if self.last_problem:
            message += f"; last request: {self.last_problem}"
        if set(self.latest) == {UNNAMED}:
            hint = ("the backend does not name its replica on /version (a hubship older than "
                    "replica ids): upgrade the backend, or verify with --replicas 1")
        elif self.not_ready:
            hint = (f"{', '.join(self.not_ready)} had no release loaded: its reason above says "
                    "why (its log says more); the others serve what is listed")
        elif len(self.latest) < self.replicas:
            hint = (f"only {len(self.latest)} distinct replicas answered: check that "
                    f"{self.replicas} run (the host's dashboard), or lower --replicas "
                    "(HUBSHIP_VERIFY_REPLICAS)")
        else:
            hint = ("some replicas still serve another release: let every replica poll the Hub "
                    "(MODEL_POLL_SECONDS on the backend), or redeploy by restart")
        return VerifyError(redact(message), hint=hint)


def describe(version: VersionInfo | VersionNotReady) -> str:
    """`abc123def456 (v3, release 3, from hub)` from a `/version` answer, or
    `no release loaded (<reason>)`."""
    if isinstance(version, VersionNotReady):
        return f"no release loaded ({version.reason})"
    sha = (version.sha or "?")[:12]
    parts = [p for p in (version.tag, f"release {version.release}" if version.release else None,
                         f"from {version.source}") if p]
    return f"{sha} ({', '.join(parts)})"
