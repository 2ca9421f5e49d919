"""N backend replicas behind Debian's nginx, with a steady predict load through nginx: what
tests/e2e/test_replicas.py and bench/replicas.py both run.

nginx runs as the user running the tests, from a temporary prefix (its config, pid file and
temporary folders there; `-e stderr`, so it never opens /var/log/nginx), on a free loopback
port; the system's nginx service is never used. The upstream keeps connections alive to the
replicas and passes a request on to the next replica when one refuses the connection, fails,
or answers 502/503 (a replica restarting, or still loading): predictions have no side effect,
so retrying a POST is safe (`non_idempotent`). Open-source nginx has no active health
checks; a replica that fails is left out for `fail_timeout`.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hubship.services import Service, free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr warn;
{user}
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/client_body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  upstream replicas {{
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
    }}
  }}
}}
"""


def find_nginx() -> str | None:
    """Debian's nginx (`scripts/install-system-deps.sh` installs it), or HUBSHIP_NGINX."""
    for candidate in (os.environ.get("HUBSHIP_NGINX"), shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def nginx_service(nginx: str, prefix: Path, backend_ports: list[int]) -> Service:
    """nginx balancing over `backend_ports` on a free loopback port, not yet started."""
    prefix.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;"
                        for p in backend_ports)
    # as root the workers would switch to `nobody`, who cannot enter pytest's private tmp dirs
    user = "user root;" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, port=port, servers=servers, user=user))
    url = f"http://127.0.0.1:{port}"
    return Service("nginx", [nginx, "-p", str(prefix), "-c", str(conf), "-e", "stderr"],
                   url=url, health_url=f"{url}/health", log_path=prefix / "nginx.log")


def replica_service(name: str, port: int, home: Path, env: dict[str, str]) -> Service:
    """`uvicorn backend.main:app` on `port`, with its own HUBSHIP_HOME (its Hub cache)."""
    url = f"http://127.0.0.1:{port}"
    return Service(
        name, [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log"],
        url=url, health_url=f"{url}/health", cwd=ROOT,
        env={"HF_HUB_DISABLE_TELEMETRY": "1", "HUBSHIP_HOME": str(home),
             "HUBSHIP_ASSETS_DIR": str(home / "no-bundled-release"), **env},
        log_path=home.parent / f"{name}.log",
    )


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `check` every 20 ms; the seconds it took, or AssertionError naming `what`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.02)
    return time.monotonic() - started


def version(url: str) -> dict[str, Any]:
    try:
        answer = httpx.get(f"{url}/version", timeout=2)
    except httpx.HTTPError:
        return {}
    return answer.json() if answer.status_code == 200 else {}


class Fleet:
    """N replicas on fixed ports (a restart keeps its port, as behind a host's balancer) and
    nginx in front of them."""

    def __init__(self, work: Path, count: int, env: dict[str, str]) -> None:
        self.work, self.env = work, env
        work.mkdir(parents=True, exist_ok=True)
        self.replicas = [self._replica(i, free_port()) for i in range(count)]
        self.nginx: Service | None = None

    def _replica(self, index: int, port: int, starts: int = 1) -> Service:
        return replica_service(f"replica-{index}-{starts}", port,
                               self.work / f"replica-{index}", self.env)

    def start(self, nginx: str, timeout: float = 120) -> None:
        """Every replica at once (each waits for its own /ready), then nginx."""
        with ThreadPoolExecutor(len(self.replicas)) as pool:
            list(pool.map(lambda r: self._start_ready(r, timeout), self.replicas))
        ports = [int(r.url.rsplit(":", 1)[1]) for r in self.replicas]
        self.nginx = nginx_service(nginx, self.work / "nginx", ports).start(timeout=30)

    @staticmethod
    def _start_ready(replica: Service, timeout: float) -> None:
        replica.start(timeout=timeout)
        wait_until(lambda: httpx.get(f"{replica.url}/ready", timeout=2).status_code == 200,
                   timeout, f"{replica.name} ready")

    @property
    def url(self) -> str:
        assert self.nginx is not None
        return self.nginx.url

    def versions(self) -> list[dict[str, Any]]:
        """Each replica's own /version (asked directly, not through nginx); {} if none."""
        return [version(r.url) for r in self.replicas]

    def restart(self, index: int, timeout: float = 120) -> Service:
        """Start replica `index` again on its port and home (after `kill`)."""
        old = self.replicas[index]
        starts = int(old.name.rsplit("-", 1)[1]) + 1
        self.replicas[index] = self._replica(index, int(old.url.rsplit(":", 1)[1]), starts)
        self._start_ready(self.replicas[index], timeout)
        return self.replicas[index]

    def stop(self) -> None:
        for service in [self.nginx, *self.replicas]:
            if service is not None:
                service.stop()


@dataclass
class SteadyLoad:
    """Predictions through nginx from `threads` clients (keep-alive), each pausing `pause` s
    between requests; counts every answer and which release (sha) gave it."""

    url: str
    model: str
    record: dict[str, Any]
    threads: int = 2
    pause: float = 0.01
    statuses: Counter[str] = field(default_factory=Counter)
    shas: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> SteadyLoad:
        for _ in range(self.threads):
            worker = threading.Thread(target=self._run, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(30)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def _run(self) -> None:
        target = f"{self.url}/models/{self.model}/predict"
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    answer = client.post(target, json=self.record)
                    status, sha = str(answer.status_code), (
                        answer.json().get("sha") if answer.status_code == 200 else None)
                    problem = None if status == "200" else f"HTTP {status}: {answer.text[:200]}"
                except httpx.HTTPError as exc:
                    status, sha, problem = type(exc).__name__, None, repr(exc)
                with self._lock:
                    self.statuses[status] += 1
                    if sha:
                        self.shas[sha] += 1
                    if problem:
                        self.failures.append(problem)
                time.sleep(self.pause)


def time_to_converge(fleet: Fleet, sha: str, timeout: float) -> list[float]:
    """Seconds from now until each replica's /version serves `sha`, sorted; AssertionError
    with what each serves after `timeout`. One watcher per replica (a keep-alive client
    asking every 20 ms), so a slow answer from one does not delay seeing another."""
    started = time.monotonic()

    def watch(replica: Service) -> float | None:
        with httpx.Client(timeout=5) as client:
            while time.monotonic() - started < timeout:
                try:
                    answer = client.get(f"{replica.url}/version")
                    if answer.status_code == 200 and answer.json().get("sha") == sha:
                        return time.monotonic() - started
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
        return None

    with ThreadPoolExecutor(len(fleet.replicas)) as pool:
        arrivals = list(pool.map(watch, fleet.replicas))
    if None in arrivals:
        raise AssertionError(f"not every replica serves {sha[:12]} after {timeout:.0f} s: "
                             f"{[v.get('sha', '?')[:12] for v in fleet.versions()]}")
    return sorted(a for a in arrivals if a is not None)
