"""POST /hooks/twilio/sms: Twilio's incoming-message webhook, answered in TwiML.

The blueprint has already checked X-Twilio-Signature. The answer is a `<Message>` in the
TwiML reply, or an empty `<Response/>`. On long codes Twilio itself handles the opt-out
keywords: after a bare STOP (or CANCEL, END, QUIT, UNSUBSCRIBE…) it answers the citizen and
refuses our messages (error 21610), so we record the opt-out and stay silent.

A command that fails answers 500 with an empty response, and 503 while another delivery of
the same SMS is being handled (intake.py). Twilio does not retry an inbound webhook by
default: it logs error 11200 and calls the number's fallback URL, if one is set; retries can
be asked for with a connection override on the URL (`#rc=2&rp=5xx`). A missing sender or an
id we could not store is a 400.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from gateway.channels.twilio import bp
from gateway.messaging.commands import Inbound, normalize_text
from gateway.messaging.hook_values import valid_id, without_nul
from gateway.messaging.intake import take
from gateway.web.hops import HopUnavailable, bounded

PROVIDER = "twilio"
# Twilio's default opt-out and opt-in keywords (the whole body, any case).
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})


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
def incoming_sms() -> tuple[Response, int]:
    form = request.form
    reply = MessagingResponse()
    inbound = Inbound(
        provider=PROVIDER,
        phone=without_nul(form.get("From", "")).strip(),
        text=without_nul(form.get("Body", "")),
        message_id=(form.get("MessageSid") or form.get("SmsSid") or "").strip(),
        provider_keyword=provider_keyword(form),
    )
    if not valid_id(inbound.message_id) or not inbound.phone:
        return _twiml(reply), 400
    runtime = current_app.extensions["ors"]
    try:
        handled = bounded("sms", lambda: take(runtime, inbound, in_band=True))
    except HopUnavailable:  # the database hangs: a retry (if asked for) may handle it
        return _twiml(reply), 503
    if handled.answer.body:
        reply.message(handled.answer.body)
    return _twiml(reply), handled.status


def _twiml(reply: MessagingResponse) -> Response:
    return Response(str(reply), mimetype="text/xml")
