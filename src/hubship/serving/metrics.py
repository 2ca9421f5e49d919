"""Prometheus metrics, in a registry of the app's own (several apps in one process never clash).

Per prediction the cost is two pre-bound children (a counter and a histogram), looked up in a
dict: no label resolution on the hot path.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from hubship.loader import ModelSet

UNKNOWN_MODEL = "_unknown"
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hubship_predict_requests", "Prediction requests by model and HTTP status",
            ["model", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "hubship_predict_latency_seconds", "Prediction latency by model and HTTP status",
            ["model", "status"], buckets=_BUCKETS, registry=self.registry,
        )
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
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}

    def observe(self, model: str, status: int, seconds: float) -> None:
        children = self._children.get((model, status))
        if children is None:
            children = (self.requests.labels(model, str(status)),
                        self.latency.labels(model, str(status)))
            self._children[(model, status)] = children
        children[0].inc()
        children[1].observe(seconds)

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
