"""Prometheus metrics of the API (``/metrics``). With several workers (``api.workers``) each writes its own
files and any worker's ``/metrics`` sums them all, so one scrape of the port sees the whole service."""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from api.workers import MULTIPROC_ENV


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
                                    registry=self.registry, multiprocess_mode="livesum")
        self.stream_dropped = Counter("bithedge_api_stream_dropped", "Stream clients disconnected for not reading",
                                      registry=self.registry)
        #: 1 per serving process; with several workers one series per worker (``pid`` label)
        self.worker = Gauge("bithedge_api_worker", "A serving API process", registry=self.registry,
                            multiprocess_mode="liveall")
        #: the labelled series by (route, status) and route: ``labels()`` takes a lock and builds its key each
        #: call, and every request asks for the same few
        self._counted: dict[tuple[str, int], Any] = {}
        self._timed: dict[str, Any] = {}

    def answered(self, route: str, status: int, seconds: float) -> None:
        """One request of ``route`` answered with ``status`` after ``seconds``."""
        if (counter := self._counted.get((route, status))) is None:
            counter = self._counted[(route, status)] = self.requests.labels(route, str(status))
        counter.inc()
        if status == 429:
            self.rate_limited.inc()
        if (timer := self._timed.get(route)) is None:
            timer = self._timed[route] = self.seconds.labels(route)
        timer.observe(seconds)

    def exposition(self) -> bytes:
        shared = os.environ.get(MULTIPROC_ENV)
        if shared is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, shared)
        return generate_latest(registry)
