"""Operators' routes: liveness, readiness and metrics.

`/metrics` answers callers on this machine, or, once `ORS_METRICS_TOKEN` is set, only requests
bearing that token. `/readyz` tells the public ready or not; which dependency failed goes to
the log and to callers on this machine.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, abort, current_app, jsonify, request

from gateway.metrics import exposition
from gateway.web import readiness
from gateway.web.proxies import is_loopback_caller

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


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
    """200 when the database (and Redis, when configured) answer, else 503; within 1 s even
    when one of them hangs (a check that does not finish in time counts as "timeout")."""
    runtime = current_app.extensions["ors"]
    checks: dict[str, readiness.Check] = {"database": readiness.database_check(runtime.engine)}
    if runtime.redis is not None:
        checks["redis"] = runtime.redis.ping
    problems = readiness.problems(checks)
    if not problems:
        return jsonify(status="ready"), 200
    log.warning("not ready: %s", ", ".join(problems))
    if is_loopback_caller(request.environ):
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="unavailable"), 503


@bp.get("/metrics")
def metrics() -> Response:
    if not _may_read_metrics():
        abort(403)
    return exposition()


def _may_read_metrics() -> bool:
    """With a metrics token, only its bearer; without one, only callers on this machine."""
    token = current_app.extensions["ors"].settings.secrets.metrics_token
    if not token:
        return is_loopback_caller(request.environ)
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    return hmac.compare_digest(given.encode(), token.encode())
