"""The prediction metrics are counted by hand (`metrics.PredictStats`, cheaper per request than
prometheus_client's locked children); what a scrape shows must not change for dashboards."""

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from hubship.serving.metrics import _BUCKETS, ServingMetrics

OBSERVED = [("species", 200, 0.0004), ("species", 200, 0.001), ("species", 200, 0.0031),
            ("species", 200, 0.7), ("species", 200, 12.0), ("species", 422, 0.002),
            ("body_mass", 200, 0.005), ("species", 200, 0.001)]


def _prediction_lines(registry: CollectorRegistry) -> list[str]:
    return sorted(line for line in generate_latest(registry).decode().splitlines()
                  if "hubship_predict_" in line and "_created" not in line)


def test_a_scrape_shows_what_prometheus_clients_own_counter_and_histogram_would():
    metrics = ServingMetrics()
    reference = CollectorRegistry()
    requests = Counter("hubship_predict_requests", "Prediction requests by model and HTTP status",
                       ["model", "status"], registry=reference)
    latency = Histogram("hubship_predict_latency_seconds",
                        "Prediction latency by model and HTTP status", ["model", "status"],
                        buckets=_BUCKETS, registry=reference)
    for model, status, seconds in OBSERVED:
        metrics.observe(model, status, seconds)
        requests.labels(model, str(status)).inc()
        latency.labels(model, str(status)).observe(seconds)

    ours = _prediction_lines(metrics.registry)
    assert 'hubship_predict_requests_total{model="species",status="200"} 6.0' in ours
    assert 'hubship_predict_latency_seconds_bucket{le="0.001",model="species",status="200"} 3.0' \
        in ours
    assert ours == _prediction_lines(reference)
