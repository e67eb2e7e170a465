"""Africa's Talking Voice: `POST /hooks/at/voice`, the callback of its Voice API.

AT posts once per turn: `isActive`, `sessionId`, `callerNumber`, `destinationNumber`,
`direction`, and `dtmfDigits` after a GetDigits. The answer is XML actions run in order:
GetDigits around the prompt, then the fallback AT plays when the caller presses nothing (it
sends no request then) and a Redirect back here, marked as silence, to ask again.
`isActive=0` is the final notice: the call is over and its session goes; a held place stays
until it expires, so the caller can call back or dial USSD and continue.

Once the token check has passed, every failure becomes a spoken apology: AT must never see
a non-200 or a body that is not XML. So does a caller number the booking core cannot read (a
SIP URI, a withheld number) or a malformed call id, before anything is stored, and a turn
whose work cannot finish within the hop deadline (gateway.web.hops).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

from flask import Response, current_app, request

from gateway.channels.africastalking import bp
from gateway.channels.caller_ids import MalformedCaller, checked_id, checked_phone
from gateway.conversations import HopNotes, IvrStack
from gateway.settings import Settings
from gateway.web import hops
from menus.calls import Listen, Turn
from menus.prompts import Part

log = logging.getLogger(__name__)
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY = f"{DECLARATION}<Response/>"
AFTER, SILENCE = "after", "silence"  # query marker of the Redirect that follows silence
# GetDigits wraps exactly one prompt. A menu of several recordings gets one GetDigits per
# part, each waiting this long, so a key pressed during any of them still counts.
GAP_SECONDS = 1
MAX_DIGITS = 64  # far more than any screen asks; the rest is noise


@bp.post("/voice")
def voice() -> Response:
    runtime = current_app.extensions["ors"]
    stack: IvrStack = runtime.ivr
    form = request.form
    raw_id = form.get("sessionId", "")
    if form.get("isActive", "1").strip() == "0":
        _hang_up(stack, raw_id)
        return _xml(EMPTY)
    url = hook_url(runtime.settings)
    notes = HopNotes()
    try:
        call_id = checked_id(raw_id, "call id")
        phone = checked_phone(form.get("callerNumber", ""), runtime.booking.phone)
        hinted = request.args.get(AFTER) == SILENCE
        digits = None if hinted else form.get("dtmfDigits")
        heard = digits[:MAX_DIGITS] if digits is not None else None
        guard = hops.guard(current_app)
        turn = guard.run(
            "voice", lambda: stack.answer(call_id, phone, heard, hinted=hinted, notes=notes)
        )
        return _xml(render(turn, stack, url))
    except (MalformedCaller, hops.HopUnavailable) as error:
        # Nothing was stored for a malformed caller, and the store may be what hangs.
        log.warning("AT voice turn answered with an apology: %s", error)
    except Exception:
        log.exception("AT voice turn failed")
        _hang_up(stack, raw_id)  # the apology ends the call
    return _xml(render(stack.apology(notes.language), stack, url))


def hook_url(settings: Settings) -> str:
    """The public address of this hook, with the current webhook token AT must send back
    (the first of the list: the others are only accepted during a rotation)."""
    base = f"{settings.public_base_url}/hooks/at/voice"
    tokens = settings.secrets.at_webhook_tokens
    return f"{base}?{urlencode({'token': tokens[0]})}" if tokens else base


def render(turn: Turn, stack: IvrStack, url: str) -> str:
    """Return the AT XML for `turn`: speak, listen, and what follows silence."""
    root = ET.Element("Response")
    parts = stack.audio.parts
    _speak(root, parts(turn.hint, turn.language))
    prompt = parts(turn.prompt, turn.language)
    if turn.listen is None:
        _speak(root, prompt)
    else:
        _listen(root, prompt, turn.listen, url)
        _speak(root, parts(turn.fallback, turn.language))
        if turn.retry:
            silence = url + ("&" if "?" in url else "?") + urlencode({AFTER: SILENCE})
            ET.SubElement(root, "Redirect").text = silence
    return DECLARATION + ET.tostring(root, encoding="unicode")


def _listen(root: ET.Element, prompt: list[Part], listen: Listen, url: str) -> None:
    if listen.num_digits != 1:
        # Digits typed across two GetDigits would arrive cut in two: one GetDigits only.
        _speak(root, prompt[:-1])
        prompt = prompt[-1:]
    for n, part in enumerate(prompt, start=1):
        attrs = {"numDigits": str(listen.num_digits)} if listen.num_digits else {}
        attrs["timeout"] = str(listen.timeout if n == len(prompt) else GAP_SECONDS)
        attrs["finishOnKey"] = listen.finish_on_key
        attrs["callbackUrl"] = url
        _speak(ET.SubElement(root, "GetDigits", attrs), [part])


def _speak(parent: ET.Element, parts: list[Part]) -> None:
    for part in parts:
        if part.url:
            ET.SubElement(parent, "Play", url=part.url)
        else:
            ET.SubElement(parent, "Say").text = part.text


def _hang_up(stack: IvrStack, call_id: str) -> None:
    try:
        stack.hang_up(checked_id(call_id, "call id"))
    except MalformedCaller:
        pass  # no session was ever stored under it
    except Exception:  # the call is over either way; the session expires on its own
        log.exception("could not forget a finished AT call")


def _xml(body: str) -> Response:
    return Response(body, status=200, mimetype="application/xml")
