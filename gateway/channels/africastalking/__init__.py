"""Africa's Talking webhooks under /hooks/at. AT signs nothing, so every route requires the
configured `?token=` (DESIGN §3); the token is compared in constant time and never logged."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, request

bp = Blueprint("africastalking", __name__, url_prefix="/hooks/at")


@bp.before_request
def require_token() -> None:
    expected = current_app.extensions["ors"].settings.secrets.at_webhook_token
    if not expected:
        return  # only the embedded demo runs without a token; production refuses to start
    given = request.args.get("token", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        abort(403)


def register_routes() -> Blueprint:
    """Import the route modules (they attach to `bp`) and return the blueprint."""
    from gateway.channels.africastalking import routes  # noqa: F401

    return bp
