"""Kiosk JSON API: `POST /kiosk/api/v1/checkin` and `/lookup` with the statuses of HTTP_STATUS.

A QR payload is verified (signature) and typed digits Damm-checked before anything touches
the database; codes that look like guesses count against a per-kiosk rate limit. A third
route, `POST /kiosk/api/v1/setup-pin` (`{"pin": "…"}`), tells the page whether staff typed
the configured setup PIN, so a passer-by cannot make the kiosk forget its key.

The host app may bound every call (the gateway does: a deadline and a circuit breaker, so a
hung database costs a kiosk seconds, not a minute): it puts a `Bound` in `app.extensions`
under `BOUND`. A call that cannot be answered in time gets 503 `unavailable`; nothing was
decided, and the kiosk may try again.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol

from flask import Blueprint, Response, current_app, g, jsonify, request

from kiosk.limiter import FailedCodeLimit
from kiosk.messages import message
from kiosk.ports import CheckInDesk, KioskInfo, Refusal, TicketInfo
from tcode.payload import GenuineVoucher, ParseResult, Refused, TypedCode, parse

HTTP_STATUS = {
    "checked_in": 200,
    "valid": 200,
    "already_checked_in": 200,
    "bad_code": 400,
    "bad_signature": 400,
    "unauthorized": 401,
    "unknown_code": 404,
    "cancelled": 410,
    "replaced": 410,
    "expired": 410,
    "wrong_hospital": 422,
    "wrong_day": 422,
    "too_early": 422,
    "too_late": 422,
    "rate_limited": 429,
    "unavailable": 503,
    # POST /setup-pin only: may the page forget its key?
    "pin_accepted": 200,
    "pin_refused": 403,
}
MAX_CODE_LENGTH = 256
EXTENSION = "kiosk_desk"
BOUND = "kiosk_bound"
# Said when the host could not answer in time (kiosk/messages.py says the desk's answers).
UNAVAILABLE = {
    "en": "The service is busy. Please try again in a moment or go to reception.",
    "sw": "Huduma ina shughuli nyingi. Tafadhali jaribu tena baada ya muda au nenda mapokezi.",
}
RETRY_AFTER_SECONDS = 2


class Bound(Protocol):
    """Run a call's work in a copy of the caller's context (so Flask's `request`, `g` and
    `current_app` work there) and return its answer, or raise TimeoutError in time."""

    def __call__(self, work: Callable[[], Response]) -> Response: ...


def desk() -> CheckInDesk:
    wired: CheckInDesk = current_app.extensions[EXTENSION]
    return wired


# What a guesser gets: these count toward the kiosk's failed-code limit. A citizen who came
# too early or to the wrong hospital does not, or a busy morning would lock the kiosk.
GUESSES = frozenset({"bad_code", "bad_signature", "unknown_code", "pin_refused"})


def create_api(failed_code_limit: str, storage_uri: str) -> Blueprint:
    """The API blueprint, with its failed-code limit (see kiosk.limiter)."""
    bp = Blueprint("kiosk_api", __name__, url_prefix="/kiosk/api/v1")
    limit = FailedCodeLimit(failed_code_limit, storage_uri)

    @bp.post("/checkin")
    @bounded
    def checkin() -> Response:
        return scan(limit, dry_run=False)

    @bp.post("/lookup")
    @bounded
    def lookup() -> Response:
        return scan(limit, dry_run=True)

    @bp.post("/setup-pin")
    @bounded
    def setup_pin() -> Response:
        """Check the staff PIN that lets the page forget its key (wrong PINs count as guesses)."""
        return limited(limit, check_pin)

    return bp


def bounded(view: Callable[[], Response]) -> Callable[[], Response]:
    """Authenticate and answer within the host's bound, when it set one."""

    @wraps(view)
    def run() -> Response:
        bound: Bound | None = current_app.extensions.get(BOUND)
        if bound is None:
            return authenticated(view)
        request.get_data()  # read here: the request thread owns the socket, the work may outlive it
        try:
            return bound(lambda: authenticated(view))
        except TimeoutError:
            return answer("unavailable", _language(g.get("kiosk")))

    return run


def authenticated(view: Callable[[], Response]) -> Response:
    """Answer with `view` for a kiosk whose bearer key is known, else `unauthorized`."""
    header = request.headers.get("Authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else ""
    kiosk = desk().identify(key) if 20 <= len(key) <= 128 else None
    if kiosk is None:
        return answer("unauthorized", _language(None))
    g.kiosk = kiosk
    return view()


def scan(limit: FailedCodeLimit, dry_run: bool) -> Response:
    parsed = parse_code(_body().get("code"))
    # A verified signature is no guess, so a limited kiosk still checks in the QR codes of
    # the people queueing at it (and they skip a Redis round trip).
    if isinstance(parsed, GenuineVoucher):
        return decide(parsed, dry_run)
    return limited(limit, lambda: decide(parsed, dry_run))


def limited(limit: FailedCodeLimit, decide_: Callable[[], Response]) -> Response:
    """Answer with `decide_`, spending one place of the kiosk's failed-code limit."""
    # The place is taken before the lookup, so parallel guesses cannot pass the limit
    # together; it is given back when the answer shows the code was no guess (or failed).
    reservation = limit.reserve(g.kiosk.id)
    if reservation is None:
        return answer("rate_limited", _language(g.kiosk))
    try:
        return decide_()
    finally:
        if g.get("status") not in GUESSES:
            limit.refund(reservation)


def decide(parsed: ParseResult | None, dry_run: bool) -> Response:
    kiosk: KioskInfo = g.kiosk
    lang = _language(kiosk)
    if parsed is None:
        return answer("bad_code", lang)
    if isinstance(parsed, Refused):
        # An unknown key id is indistinguishable, for the citizen, from a forged voucher.
        return answer("bad_code" if parsed.reason == "bad_code" else "bad_signature", lang)
    assert isinstance(parsed, TypedCode | GenuineVoucher)
    try:
        ticket = desk().check_in(parsed.tcode, kiosk, dry_run)
    except Refusal as refusal:
        ticket = refusal.facts.pop("ticket", None)
        return answer(refusal.status, lang, ticket, **refusal.facts)
    status = "valid" if dry_run else "checked_in"
    return answer(
        status, lang, ticket, queue_number=ticket.queue_number, starts_at=ticket.starts_at
    )


def check_pin() -> Response:
    pin, expected = _body().get("pin"), desk().setup_pin
    right = (
        isinstance(pin, str)
        and bool(expected)
        and hmac.compare_digest(pin.encode(), expected.encode())
    )
    return answer("pin_accepted" if right else "pin_refused", _language(g.kiosk))


def _body() -> dict[str, Any]:
    """The JSON object sent, or {} for anything else: malformed, too deep, not an object."""
    if "body" not in g:
        g.body = {}
        if request.is_json:
            try:
                body = json.loads(request.get_data())
            except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested thousands deep
                body = None
            if isinstance(body, dict):
                g.body = body
    sent: dict[str, Any] = g.body
    return sent


def parse_code(code: object) -> ParseResult | None:
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH:
        return None
    return parse(code, desk().keyring)


def _language(kiosk: KioskInfo | None) -> str:
    asked = request.args.get("lang") or request.headers.get("Accept-Language", "")[:2]
    if asked in ("en", "sw"):
        return asked
    return kiosk.language if kiosk else "en"


def answer(status: str, lang: str, ticket: TicketInfo | None = None, **facts: Any) -> Response:
    if ticket is not None:
        facts.setdefault("queue_number", ticket.queue_number)
    if status == "unavailable":
        sentence = UNAVAILABLE.get(lang, UNAVAILABLE["en"])
    else:
        sentence = message(status, lang, **facts)
    body = {
        "status": status,
        "message": sentence,
        "ticket": _ticket_json(ticket, lang) if ticket is not None else None,
    }
    g.status = status
    response = jsonify(body)
    response.status_code = HTTP_STATUS[status]
    response.headers["Cache-Control"] = "no-store"
    if status == "unavailable":
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _ticket_json(ticket: TicketInfo, lang: str) -> dict[str, Any]:
    # Named in the kiosk's language, as the catalogue translates them (else as it names them).
    return {
        "queue_number": ticket.queue_number,
        "hospital": ticket.hospital_in(lang),
        "department": ticket.department_in(lang),
        "sensitive": ticket.sensitive,
        "room": ticket.room,
        "doctor": ticket.doctor,
        "starts_at": ticket.starts_at.isoformat(),
        "checked_in_at": ticket.checked_in_at.isoformat() if ticket.checked_in_at else None,
        "person": ticket.person,
    }
