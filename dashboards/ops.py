"""The operations endpoints beside the app, as every BitHedge daemon has them: ``/health`` (the process
answers), ``/ready`` (the analytics can be shown: 503 with the reason otherwise) and Prometheus ``/metrics``."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

from dashboards import state


def register(server: Flask) -> None:
    registry = CollectorRegistry()
    ready = Gauge("bithedge_dashboards_ready", "1 while the analytics can be shown, else 0", registry=registry)
    height = Gauge("bithedge_dashboards_marts_stacks_height", "Stacks height the shown analytics include",
                   registry=registry)
    age = Gauge("bithedge_dashboards_data_age_seconds", "Seconds since the shown analytics were built",
                registry=registry)
    responses = Counter("bithedge_dashboards_responses", "HTTP responses by status class", ["status"],
                        registry=registry)

    @server.after_request
    def _count(resp):
        responses.labels(f"{resp.status_code // 100}xx").inc()
        return resp

    @server.get("/health")
    def _health():
        return {"status": "ok"}

    @server.get("/ready")
    def _ready():
        s = state.read_state()
        return jsonify({k: v for k, v in s.items() if k in ("status", "message", "height", "burn")}), (
            200 if s["status"] == "ok" else 503)

    @server.get("/metrics")
    def _metrics():
        s = state.read_state()
        ready.set(1 if s["status"] == "ok" else 0)
        if "height" in s:
            height.set(s["height"])
        if s.get("age_s") is not None:
            age.set(s["age_s"])
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
