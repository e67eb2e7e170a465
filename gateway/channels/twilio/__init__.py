"""Twilio webhooks under /hooks/twilio, each checked with the official RequestValidator.

The URL is rebuilt from `public_base_url` (the address Twilio was given), not from the request,
because behind a proxy or TLS terminator the app sees another scheme and host (Twilio's
webhook security documentation).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from twilio.request_validator import RequestValidator

bp = Blueprint("twilio", __name__, url_prefix="/hooks/twilio")


def public_url() -> str:
    base = current_app.extensions["ors"].settings.public_base_url.rstrip("/")
    query = request.query_string.decode()
    return f"{base}{request.path}" + (f"?{query}" if query else "")


@bp.before_request
def require_signature() -> None:
    token = current_app.extensions["ors"].settings.secrets.twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        abort(403)
    # Validating parses and HMACs the whole form, for anyone who sends a header. The app's
    # body limit has already refused large bodies and forms with too many fields (413).
    if not RequestValidator(token).validate(public_url(), request.form, signature):
        abort(403)


def register_routes() -> Blueprint:
    from gateway.channels.twilio import routes  # noqa: F401

    return bp
