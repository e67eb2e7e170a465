"""Africa's Talking USSD: `POST /hooks/at/ussd` and the end-of-session `POST /hooks/at/ussd/events`.

AT posts the whole input so far (`text` = "1*2*3"); the latest answer is the last piece. A
retried POST (same sessionId and text) gets the same screen back and acts once. Once the
token check has passed, every failure becomes a polite END in the caller's language whose
short ref names the logged line: AT must never see a non-200 or a body without CON/END. That
includes a caller number the booking core cannot read or a malformed session id (refused
before anything is stored), and a hop whose work cannot finish within the hop deadline
(gateway.web.hops): AT gives up on a session after about 15 seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import string

from flask import Response, current_app, request
from flask.blueprints import BlueprintSetupState

from gateway.booking.operations.challenges import challenge_key
from gateway.channels.africastalking import bp
from gateway.channels.caller_ids import MalformedCaller, checked_id, checked_phone
from gateway.conversations import HopNotes, UssdStack
from gateway.web import hops
from menus import Session

log = logging.getLogger(__name__)
MAX_TEXT = 2000  # far beyond any real session; longer is abuse, answered with an apology
DROPPED = {"Incomplete", "Failed"}


def _plain(body: str) -> Response:
    return Response(body, status=200, mimetype="text/plain")


@bp.record_once
def _guard_hops(state: BlueprintSetupState) -> None:
    """Hops run under the app's deadline and circuit breaker, installed with the blueprint."""
    hops.install(state.app)


@bp.post("/ussd")
def ussd() -> Response:
    runtime = current_app.extensions["ors"]
    stack: UssdStack = runtime.ussd
    form = request.form
    raw_id, raw_phone, text = (
        form.get("sessionId", ""),
        form.get("phoneNumber", ""),
        form.get("text", ""),
    )
    notes = HopNotes()
    try:
        session_id = checked_id(raw_id)
        phone = checked_phone(raw_phone, runtime.booking.phone)
        if len(text) > MAX_TEXT:
            raise ValueError("text too long")
        guard = hops.guard(current_app)
        return _plain(guard.run("ussd", lambda: _answer(stack, session_id, phone, text, notes)))
    except Exception as error:
        return _plain(_apology(stack, notes.language, error))


def _answer(stack: UssdStack, session_id: str, phone: str, text: str, notes: HopNotes) -> str:
    """The hop's work, on the hop pool: replay a retried hop, else step the engine."""
    session = stack.sessions.get(session_id)
    if session is not None and session.phone != phone:
        # A session belongs to the phone that opened it: the same id from another phone
        # (a provider reusing ids, or a forged hop) starts afresh and sees nothing of it.
        session = None
    notes.language = session.language if session is not None else None
    seen = _fingerprint(text)
    replay = session.replay(seen) if session is not None else None
    if replay is not None:
        return replay
    return _hop(stack, session_id, phone, text, session, seen)


def _fingerprint(text: str) -> str:
    """What the session keeps of the hop's input to spot a retried hop: AT's text repeats
    every answer of the session, a national ID typed for real-name registration too, so only
    a keyed digest of it is stored (a plain hash of a few digits is easily reversed)."""
    runtime = current_app.extensions["ors"]
    key = challenge_key(runtime.settings.secrets.secret_key, runtime.booking.signing_key)
    return hmac.new(key, b"ussd hop\0" + text.encode(), hashlib.sha256).hexdigest()


def _apology(stack: UssdStack, language: str | None, error: Exception) -> str:
    ref = _failure_ref()
    if isinstance(error, MalformedCaller | hops.HopUnavailable):
        log.warning("USSD hop answered with an apology (ref %s): %s", ref, error)
    else:
        log.exception("USSD hop failed (ref %s)", ref)
    apology = stack.renderer.render(stack.engine.failure_reply(language))[0]
    return f"END {apology} (ref {ref})"


def _failure_ref() -> str:
    # Letters only: a hex id that starts with ten digits looks like a phone number to the
    # log masker, and the line the caller's ref points to would be unfindable.
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


def _hop(
    stack: UssdStack, session_id: str, phone: str, text: str, session: Session | None, seen: str
) -> str:
    segments = text.split("*") if text else []
    if session is None:
        # A dial string may already carry input (*384*123*1#): start at the top regardless.
        session = Session.new(session_id, phone)
        session.inputs = len(segments)
        reply = stack.engine.step(session, None)
    elif len(segments) <= session.inputs:
        reply = stack.engine.step(session, None)  # a stale retry: show the screen again
    else:
        reply = stack.engine.step(session, segments[-1])  # the engine counts the input
    screen, end = stack.renderer.render(reply)
    body = ("END " if end else "CON ") + screen
    # An ended session is kept too, closed: a retried last hop gets the same END, and a hop
    # after it (AT never sends one) is told the session is over.
    session.answered = (seen, body)
    stack.sessions.put(session)
    return body


@bp.post("/ussd/events")
def ussd_events() -> Response:
    """End-of-session notice: a dropped session that holds a slot gets one dial-back notice.

    A malformed phone number or session id writes nothing; AT does not retry usefully, so
    every notice is acknowledged."""
    form = request.form
    if form.get("status", "") not in DROPPED:
        return _plain("OK")
    booking = current_app.extensions["ors"].booking
    try:
        session_id = checked_id(form.get("sessionId", ""))
        phone = checked_phone(form.get("phoneNumber", ""), booking.phone)
        guard = hops.guard(current_app)
        guard.run("ussd", lambda: booking.notice_dropped_session(phone, session_id))
    except (MalformedCaller, hops.HopUnavailable) as error:
        log.warning("dropped USSD session not recorded: %s", error)
    except Exception:
        log.exception("could not record a dropped USSD session")
    return _plain("OK")
