"""POST /hooks/at/sms: Africa's Talking's incoming-messages callback.

Form fields `from`, `to`, `text`, `id`, `date`, `linkId`, `networkCode` (and `cost`). The
answer goes back as an ordinary outbound message through the outbox, so it is sent with
retries. The webhook answers 200 once the command has run (or the SMS was a duplicate, or was
set aside as a dead letter), 500 when the command failed and a retry should run it again, 503
while another delivery of the same SMS is being handled (intake.py), and 400 for a missing
sender or an id we could not store.
"""

from __future__ import annotations

from flask import Response, current_app, request

from gateway.channels.africastalking import bp
from gateway.messaging.commands import Inbound
from gateway.messaging.hook_values import BAD_ID, valid_id, without_nul
from gateway.messaging.intake import take
from gateway.web.hops import HopUnavailable, bounded

PROVIDER = "africastalking"
BODIES = {200: "OK", 500: "failed, please retry", 503: "busy, please retry"}


@bp.post("/sms")
def incoming_sms() -> tuple[Response, int]:
    form = request.form
    inbound = Inbound(
        provider=PROVIDER,
        phone=without_nul(form.get("from", "")).strip(),
        text=without_nul(form.get("text", "")),
        message_id=form.get("id", "").strip(),
    )
    if not valid_id(inbound.message_id):
        return _text(BAD_ID), 400
    if not inbound.phone:
        return _text("no sender"), 400
    runtime = current_app.extensions["ors"]
    try:
        handled = bounded("sms", lambda: take(runtime, inbound, in_band=False))
    except HopUnavailable:  # the database hangs: AT may deliver it again
        return _text(BODIES[503]), 503
    return _text(BODIES[handled.status]), handled.status


def _text(body: str) -> Response:
    return Response(body, mimetype="text/plain")
