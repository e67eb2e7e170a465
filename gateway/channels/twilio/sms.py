"""POST /hooks/twilio/sms: Twilio inbound SMS (channels.md §5.1), answered in TwiML (§5.2).

The blueprint has already checked X-Twilio-Signature. The answer is a `<Message>` in the
TwiML reply, or an empty `<Response/>`. On long codes Twilio itself handles the opt-out
keywords: after a bare STOP (or CANCEL, END, QUIT, UNSUBSCRIBE…) it answers the citizen and
refuses our messages (error 21610), so we record the opt-out and stay silent. Every failure
still answers 200 with an empty response, logged under a short ref.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from gateway.channels.twilio import bp
from gateway.messaging.commands import Inbound, normalize_text, receive
from gateway.messaging.inbound import failure_ref

PROVIDER = "twilio"
# Twilio's default opt-out and opt-in keywords (the whole body, any case).
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
log = logging.getLogger(__name__)


def provider_keyword(form: Mapping[str, str]) -> str:
    """ "stop" / "start" when Twilio acts on the message as an opt-out / opt-in keyword."""
    opt_type = form.get("OptOutType", "").upper()
    body = normalize_text(form.get("Body", ""))
    if opt_type == "STOP" or body in OPT_OUT:
        return "stop"
    if opt_type == "START" or body in OPT_IN:
        return "start"
    return ""


@bp.post("/sms")
def incoming_sms() -> Response:
    runtime = current_app.extensions["ors"]
    form = request.form
    reply = MessagingResponse()
    inbound = Inbound(
        provider=PROVIDER,
        phone=form.get("From", "").strip(),
        text=form.get("Body", ""),
        message_id=(form.get("MessageSid") or form.get("SmsSid") or "").strip(),
        provider_keyword=provider_keyword(form),
    )
    try:
        if not inbound.phone:
            raise ValueError("no `From` in the inbound SMS")
        received = receive(runtime, inbound)
        if received is not None and received[1].body:
            reply.message(received[1].body)
    except Exception:
        log.exception("inbound SMS failed (ref %s)", failure_ref())
    return Response(str(reply), status=200, mimetype="text/xml")
