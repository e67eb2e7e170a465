"""POST /hooks/at/sms: Africa's Talking incoming SMS (channels.md §3.3).

Form fields `from`, `to`, `text`, `id`, `date`, `linkId`, `networkCode` (and `cost`). The
answer goes back as an ordinary outbound message through the outbox, so it is sent with
retries; the webhook itself always answers 200 at once — a failure is logged under a short
ref, never a 5xx (AT would retry and the citizen could get two answers).
"""

from __future__ import annotations

import logging

from flask import Response, current_app, request

from gateway.channels.africastalking import bp
from gateway.messaging.commands import Inbound, queue_reply, receive
from gateway.messaging.inbound import failure_ref

PROVIDER = "africastalking"
log = logging.getLogger(__name__)


@bp.post("/sms")
def incoming_sms() -> Response:
    runtime = current_app.extensions["ors"]
    form = request.form
    inbound = Inbound(
        provider=PROVIDER,
        phone=form.get("from", "").strip(),
        text=form.get("text", ""),
        message_id=form.get("id", "").strip(),
    )
    try:
        if not inbound.phone:
            raise ValueError("no `from` in the incoming SMS")
        received = receive(runtime, inbound)
        if received is not None and received[1].body:
            queue_reply(runtime, inbound, *received)
    except Exception:
        log.exception("incoming SMS failed (ref %s)", failure_ref())
    return Response("OK", status=200, mimetype="text/plain")
