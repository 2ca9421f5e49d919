"""Prometheus metrics, in a registry of the app's own (several apps in one process never clash).

Per prediction, `PredictStats` counts the request and its latency in plain numbers, which a
collector turns into `hubship_predict_requests_total` and `hubship_predict_latency_seconds`
when /metrics is scraped: prometheus_client's own Counter and Histogram cost 3.5-7.5 us per
request (three locked updates, a labels lookup), up to a tenth of the event loop's own work on
a predict request.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from hubship.loader import ModelSet

UNKNOWN_MODEL = "_unknown"
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LE = (*(repr(float(bound)) for bound in _BUCKETS), "+Inf")  # the `le` labels, as Prometheus's
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class _Observed:
    __slots__ = ("count", "seconds", "buckets")

    def __init__(self) -> None:
        self.count, self.seconds = 0, 0.0
        self.buckets = [0] * (len(_BUCKETS) + 1)  # the last: over the largest bound


class PredictStats(Collector):
    """Prediction requests and their latency by model and HTTP status. Updated on the event
    loop only; a scrape reads numbers that are whole at any moment (at worst one request
    newer in the count than in the buckets, never torn)."""

    def __init__(self) -> None:
        self.observed: dict[tuple[str, int], _Observed] = {}

    def observe(self, model: str, status: int, seconds: float) -> None:
        observed = self.observed.get((model, status))
        if observed is None:
            observed = self.observed[(model, status)] = _Observed()
        observed.count += 1
        observed.seconds += seconds
        observed.buckets[bisect_left(_BUCKETS, seconds)] += 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily("hubship_predict_requests",
                                       "Prediction requests by model and HTTP status",
                                       labels=["model", "status"])
        latency = HistogramMetricFamily("hubship_predict_latency_seconds",
                                        "Prediction latency by model and HTTP status",
                                        labels=["model", "status"])
        for (model, status), observed in list(self.observed.items()):
            labels = [model, str(status)]
            requests.add_metric(labels, observed.count)
            cumulative, buckets = 0, []
            for le, count in zip(_LE, list(observed.buckets), strict=True):
                cumulative += count
                buckets.append((le, cumulative))
            latency.add_metric(labels, buckets, observed.seconds)
        yield requests
        yield latency


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.predictions = PredictStats()
        self.registry.register(self.predictions)
        self.observe = self.predictions.observe  # per prediction: (model, status, seconds)
        self.release = Info("hubship_release", "The release being served",
                            registry=self.registry)
        self.ready = Gauge("hubship_ready", "1 when a release is loaded", registry=self.registry)
        self.reloads = Counter("hubship_reloads", "Reload attempts by outcome", ["outcome"],
                               registry=self.registry)
        self.batch_rows = Histogram(
            "hubship_batch_rows", "Records per model call (one batch of requests)",
            buckets=_BATCH_BUCKETS, registry=self.registry,
        )
        self.model_seconds = Counter(
            "hubship_model_seconds", "CPU seconds the inference workers spent in model calls "
            "(building the frame and predicting), by model", ["model"], registry=self.registry)
        self.queue_rows = Gauge("hubship_queue_rows", "Records waiting for an inference worker",
                                registry=self.registry)
        self.workers = Gauge("hubship_inference_workers", "Inference workers running",
                             registry=self.registry)
        self.worker_restarts = Counter("hubship_inference_worker_restarts",
                                       "Inference worker processes restarted after dying",
                                       registry=self.registry)
        self.out_of_range = Counter(
            "hubship_input_out_of_range", "Input values outside what the model was trained on "
            "(a number outside the training range, a category not seen), predicted with a "
            "warning", ["model", "input"], registry=self.registry,
        )

    def watch_engine(self, engine: Any) -> None:
        """Queue depth and live workers, read from the engine when /metrics is scraped."""
        self.queue_rows.set_function(lambda: engine.queued_rows)
        self.workers.set_function(lambda: engine.alive)

    def serving(self, model_set: ModelSet) -> None:
        self.ready.set(1)
        self.release.info({
            "sha": model_set.sha or "", "tag": model_set.tag or "",
            "release": str(model_set.release or ""), "source": model_set.source,
            "repo_id": model_set.repo_id,
        })

    def reload(self, outcome: str) -> None:
        self.reloads.labels(outcome).inc()
