"""Africa's Talking webhooks under /hooks/at. AT signs nothing, so every route requires one of
the configured `?token=` values (README, Provider callback URLs), compared in constant time
and never logged.

`ORS_AT_WEBHOOK_TOKEN` may list several tokens, comma-separated, so an old and a new one both
work while the callback URLs are switched over. `channels.africastalking.allowed_networks`,
when set, also refuses callers from any other source address (as resolved through
`app.trusted_proxies`). Without a token only the embedded demo answers; production refuses.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, request

from gateway.settings import Settings
from gateway.web.proxies import address, networks, within

bp = Blueprint("africastalking", __name__, url_prefix="/hooks/at")


@bp.before_request
def require_token() -> None:
    settings: Settings = current_app.extensions["ors"].settings
    allowed = settings.at_allowed_networks
    if allowed and not within(address(request.remote_addr), networks(allowed)):
        abort(403)
    tokens = settings.secrets.at_webhook_tokens
    if not tokens:
        if settings.embedded:
            return  # the demo runs open unless a token is configured
        abort(403)
    if not token_matches(request.args.get("token", ""), tokens):
        abort(403)


def token_matches(given: str, tokens: tuple[str, ...]) -> bool:
    """Compare against every accepted token, each in constant time, without stopping early."""
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given.encode(), token.encode())
    return matched


def register_routes() -> Blueprint:
    """Import the route modules (they attach to `bp`) and return the blueprint."""
    from gateway.channels.africastalking import routes  # noqa: F401

    return bp
