"""Twilio Voice webhooks: `POST /hooks/twilio/voice` and `POST /hooks/twilio/voice/status`.

The blueprint has already checked X-Twilio-Signature. Twilio posts `CallSid`, `From`, `To`,
`CallStatus`, `Direction` on every request, and `Digits` when a Gather sends its result to
its action (this same hook). `actionOnEmptyResult` makes Gather post even when the caller
pressed nothing, so silence arrives here as an empty `Digits` and is re-prompted. A call that
has ended (`completed`, `busy`, `failed`, `no-answer`, `canceled`) loses its session; a held
place stays until it expires, so the caller can call back or dial USSD and continue.

Once the signature has passed, every failure becomes a spoken apology, never an HTTP error.
So does a caller the booking core cannot read as a phone number (`From` is a SIP URI for
SIP-domain calls, `client:…` for client calls) or a malformed CallSid, before anything is
stored, and a turn whose work cannot finish within the hop deadline (gateway.web.hops).
"""

from __future__ import annotations

import logging

from flask import Response, current_app, request
from flask.blueprints import BlueprintSetupState
from twilio.twiml.voice_response import Gather, VoiceResponse

from gateway.channels.caller_ids import MalformedCaller, checked_id, checked_phone
from gateway.channels.twilio import bp
from gateway.conversations import HopNotes, IvrStack
from gateway.web import hops
from menus.calls import Turn
from menus.prompts import Part

log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_DIGITS = 64  # far more than any screen asks; the rest is noise

# Every Twilio CallStatus -> is the call still going on? Unknown statuses change nothing.
CALL_GOES_ON: dict[str, bool] = {
    "queued": True,
    "initiated": True,
    "ringing": True,  # the first webhook of an inbound call
    "in-progress": True,
    "completed": False,
    "busy": False,
    "failed": False,
    "no-answer": False,
    "canceled": False,
}


@bp.record_once
def _guard_hops(state: BlueprintSetupState) -> None:
    """Turns run under the app's deadline and circuit breaker, installed with the blueprint."""
    hops.install(state.app)


@bp.post("/voice")
def voice() -> Response:
    runtime = current_app.extensions["ors"]
    stack: IvrStack = runtime.ivr
    form = request.form
    raw_id = form.get("CallSid", "")
    if not CALL_GOES_ON.get(form.get("CallStatus", ""), True):
        _hang_up(stack, raw_id)
        return _twiml(EMPTY_TWIML)
    action = f"{runtime.settings.public_base_url}/hooks/twilio/voice"
    notes = HopNotes()
    try:
        call_id = checked_id(raw_id, "call id")
        phone = checked_phone(form.get("From", ""), runtime.booking.phone)
        heard = form.get("Digits", "")[:MAX_DIGITS] or None
        guard = hops.guard(current_app)
        turn = guard.run("voice", lambda: stack.answer(call_id, phone, heard, notes=notes))
        return _twiml(render(turn, stack, action))
    except (MalformedCaller, hops.HopUnavailable) as error:
        # Nothing was stored for a malformed caller, and the store may be what hangs.
        log.warning("Twilio voice turn answered with an apology: %s", error)
    except Exception:
        log.exception("Twilio voice turn failed")
        _hang_up(stack, raw_id)  # the apology ends the call
    return _twiml(render(stack.apology(notes.language), stack, action))


@bp.post("/voice/status")
def voice_status() -> Response:
    """Call status callback: an ended call loses its session."""
    form = request.form
    if not CALL_GOES_ON.get(form.get("CallStatus", ""), True):
        _hang_up(current_app.extensions["ors"].ivr, form.get("CallSid", ""))
    return _twiml(EMPTY_TWIML)


def render(turn: Turn, stack: IvrStack, action: str) -> str:
    """Return the TwiML for `turn`: speak, gather one key (or digits up to #), or hang up."""
    response = VoiceResponse()
    parts = stack.audio.parts
    _speak(response, parts(turn.hint, turn.language))
    listen = turn.listen
    if listen is None:
        _speak(response, parts(turn.prompt, turn.language))
        response.hangup()
        return str(response)
    options = {"num_digits": listen.num_digits} if listen.num_digits else {}
    gather = Gather(
        input="dtmf",
        action=action,
        method="POST",
        timeout=listen.timeout,
        finish_on_key=listen.finish_on_key,
        action_on_empty_result=True,
        **options,
    )
    _speak(gather, parts(turn.prompt, turn.language))
    response.append(gather)
    if turn.retry:
        # Not reached while Gather posts on silence; a safety net if it ever does not.
        response.redirect(action, method="POST")
    else:
        _speak(response, parts(turn.fallback, turn.language))
        response.hangup()
    return str(response)


def _speak(verb: VoiceResponse | Gather, parts: list[Part]) -> None:
    for part in parts:
        if part.url:
            verb.play(part.url)
        else:
            verb.say(part.text)


def _hang_up(stack: IvrStack, call_id: str) -> None:
    try:
        stack.hang_up(checked_id(call_id, "call id"))
    except MalformedCaller:
        pass  # no session was ever stored under it
    except Exception:  # the call is over either way; the session expires on its own
        log.exception("could not forget a finished Twilio call")


def _twiml(body: str) -> Response:
    return Response(body, status=200, mimetype="text/xml")
