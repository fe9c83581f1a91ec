"""Prometheus metrics of the API (``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("bithedge_api_requests", "Requests by route and status", ["route", "status"],
                                registry=self.registry)
        self.seconds = Histogram("bithedge_api_request_seconds", "Request duration by route", ["route"],
                                 registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.rate_limited = Counter("bithedge_api_rate_limited", "Requests refused with 429", registry=self.registry)
        self.stream_clients = Gauge("bithedge_api_stream_clients", "Connected /v1/stream clients",
                                    registry=self.registry)
        self.stream_dropped = Counter("bithedge_api_stream_dropped", "Stream clients disconnected for not reading",
                                      registry=self.registry)
