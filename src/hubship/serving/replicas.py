"""What a backend needs to run as one of several replicas behind a load balancer.

- its name, on `/version`, so `hubship verify --replicas N` can count distinct replicas;
- a poll cadence with jitter, so N replicas started together do not ask the Hub in the same
  second, yet each asks at least once per MODEL_POLL_SECONDS;
- the cheapest Hub call that says whether the watched revision moved: one HEAD on its
  manifest.json (`HubClient.head_commit`, in the Hub gateway with every other Hub call).
"""

from __future__ import annotations

import os
import random
import socket

HOST_REPLICA_VARIABLES = ("RAILWAY_REPLICA_ID", "RENDER_INSTANCE_ID")
# each wait is between this fraction of the interval and the whole interval: the replicas'
# polls drift apart, and none waits longer than MODEL_POLL_SECONDS
JITTER = 0.2


def replica_id() -> str:
    """The host's name for this replica (Railway, Render), else `<hostname>-<pid>`."""
    for name in HOST_REPLICA_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return f"{socket.gethostname()}-{os.getpid()}"


def first_poll_delay(interval: float, rng: random.Random) -> float:
    """A random phase in (0, interval]: replicas started by one deploy poll at different times."""
    return interval * (1.0 - rng.random())


def poll_delay(interval: float, rng: random.Random) -> float:
    """The wait before the next poll: within the last JITTER of the interval."""
    return interval * (1.0 - JITTER * rng.random())

