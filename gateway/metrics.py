"""Prometheus metrics: requests by route and status, latency, dead letters; multiprocess-safe
under gunicorn."""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("ors_http_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram(
    "ors_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# Counted when something is parked, not computed at scrape time: a scrape then costs no query.
# kind: event (the relay gave up on it), message (its sending gave up), sms (an inbound SMS
# whose command kept failing). `ors outbox dead` lists what is parked now.
DEAD_LETTERS = Counter(
    "ors_dead_letters_total",
    "Events, messages and inbound SMS set aside after failing too often",
    ["kind"],
)
# Any caller can send any method name; a fixed label set keeps the series count bounded.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def instrument(app: Flask) -> None:
    """Count and time every request by its route rule (never by raw path: refs are secret)."""

    @app.before_request
    def _start() -> None:
        g.ors_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(route, method_label(request.method), str(response.status_code)).inc()
        LATENCY.labels(route).observe(
            time.perf_counter() - g.get("ors_started", time.perf_counter())
        )
        return response


def exposition() -> Response:
    """Render the metrics of this process, or of all gunicorn workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)
