"""Africa's Talking USSD: `POST /hooks/at/ussd` and the end-of-session `POST /hooks/at/ussd/events`.

AT posts the whole input so far (`text` = "1*2*3"); the latest answer is the last piece. A
retried POST (same sessionId and text) gets the same screen back and acts once. Once the
token check has passed, every failure becomes a polite END in the caller's language whose
short ref names the logged traceback: AT must never see a non-200 or a body without CON/END.
"""

from __future__ import annotations

import logging
import secrets
import string

from flask import Response, current_app, request

from gateway.channels.africastalking import bp
from gateway.conversations import UssdStack
from menus import Session

log = logging.getLogger(__name__)
MAX_TEXT = 2000  # far beyond any real session; longer is abuse, answered with an apology
DROPPED = {"Incomplete", "Failed"}


def _plain(body: str) -> Response:
    return Response(body, status=200, mimetype="text/plain")


@bp.post("/ussd")
def ussd() -> Response:
    stack: UssdStack = current_app.extensions["ors"].ussd
    form = request.form
    session_id, phone, text = (
        form.get("sessionId", ""),
        form.get("phoneNumber", ""),
        form.get("text", ""),
    )
    session: Session | None = None
    try:
        if not session_id or not phone or len(text) > MAX_TEXT:
            raise ValueError("sessionId or phoneNumber missing, or text too long")
        session = stack.sessions.get(session_id)
        if session is not None and session.phone != phone:
            # A session belongs to the phone that opened it: the same id from another phone
            # (a provider reusing ids, or a forged hop) starts afresh and sees nothing of it.
            session = None
        replay = session.replay(text) if session is not None else None
        if replay is not None:
            return _plain(replay)
        return _plain(_hop(stack, session_id, phone, text, session))
    except Exception:
        ref = _failure_ref()
        log.exception("USSD hop failed (ref %s)", ref)
        language = session.language if session else None
        apology = stack.renderer.render(stack.engine.failure_reply(language))[0]
        return _plain(f"END {apology} (ref {ref})")


def _failure_ref() -> str:
    # Letters only: a hex id that starts with ten digits looks like a phone number to the
    # log masker, and the line the caller's ref points to would be unfindable.
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


def _hop(stack: UssdStack, session_id: str, phone: str, text: str, session: Session | None) -> str:
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
    session.answered = (text, body)
    stack.sessions.put(session)
    return body


@bp.post("/ussd/events")
def ussd_events() -> Response:
    """End-of-session notice: a dropped session that holds a slot gets one dial-back notice."""
    form = request.form
    status, phone = form.get("status", ""), form.get("phoneNumber", "")
    if status in DROPPED and phone:
        try:
            current_app.extensions["ors"].booking.notice_dropped_session(
                phone, form.get("sessionId", "")
            )
        except Exception:  # AT does not retry usefully; log and acknowledge
            log.exception("could not record a dropped USSD session")
    return _plain("OK")
