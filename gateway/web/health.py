"""Operators' routes: liveness, readiness and metrics."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from gateway.metrics import exposition

bp = Blueprint("health", __name__)


@bp.get("/")
def index() -> Response:
    """A plain landing page for whoever opens the printed gateway URL in a browser."""
    return Response(
        "<!doctype html><title>ORS Gateway</title><h1>ORS Gateway</h1>"
        "<p>Hospital appointments by USSD, voice and SMS.</p>"
        '<ul><li><a href="/kiosk/">Kiosk check-in page</a></li>'
        '<li><a href="/healthz">Health</a> · <a href="/readyz">Readiness</a> · '
        '<a href="/metrics">Metrics</a></li></ul>',
        mimetype="text/html",
    )


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when the database (and Redis, when configured) answer; 503 naming what does not."""
    runtime = current_app.extensions["ors"]
    problems = []
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; say which
        problems.append(f"database: {type(exc).__name__}")
    if runtime.redis is not None:
        try:
            runtime.redis.ping()
        except Exception as exc:
            problems.append(f"redis: {type(exc).__name__}")
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="ready"), 200


@bp.get("/metrics")
def metrics() -> Response:
    return exposition()
