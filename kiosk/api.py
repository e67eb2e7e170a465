"""Kiosk JSON API: `POST /kiosk/api/v1/checkin` and `/lookup` with DESIGN §8's statuses.

A QR payload is verified (signature) and typed digits Damm-checked before anything touches
the database; codes that look like guesses count against a per-kiosk rate limit.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from kiosk.messages import message
from kiosk.ports import CheckInDesk, KioskInfo, Refusal, TicketInfo
from tcode.payload import GenuineVoucher, Refused, TypedCode, parse

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
}
MAX_CODE_LENGTH = 256
EXTENSION = "kiosk_desk"


def desk() -> CheckInDesk:
    return current_app.extensions[EXTENSION]


# What a guesser gets: these count toward the kiosk's failed-code limit. A citizen who came
# too early or to the wrong hospital does not, or a busy morning would lock the kiosk.
GUESSES = frozenset({"bad_code", "bad_signature", "unknown_code"})
log = logging.getLogger(__name__)


class FailedCodeLimit:
    """Failed codes per kiosk in a moving window (the `limits` library; Redis in production).

    Checked inside the kiosk API only: no other route pays for it (flask-limiter's app-wide
    hooks cost every USSD hop about a tenth of a millisecond). If its storage is down the
    kiosk keeps working, unlimited, and says so in the log.
    """

    def __init__(self, limit: str, storage_uri: str):
        self.item = parse_limit(limit)  # ValueError names a malformed limit at start-up
        self.window = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def reached(self, kiosk_id: int) -> bool:
        try:
            return not self.window.test(self.item, f"kiosk:{kiosk_id}")
        except Exception:
            log.warning(
                "failed-code limit unavailable; kiosk %s unlimited", kiosk_id, exc_info=True
            )
            return False

    def count(self, kiosk_id: int) -> None:
        try:
            self.window.hit(self.item, f"kiosk:{kiosk_id}")
        except Exception:
            log.warning("failed-code limit unavailable; not counted", exc_info=True)


def create_api(failed_code_limit: str, storage_uri: str) -> Blueprint:
    """The API blueprint, with its failed-code limit."""
    bp = Blueprint("kiosk_api", __name__, url_prefix="/kiosk/api/v1")
    limit = FailedCodeLimit(failed_code_limit, storage_uri)

    @bp.before_request
    def authenticate() -> Response | None:
        header = request.headers.get("Authorization", "")
        key = header[7:].strip() if header[:7].lower() == "bearer " else ""
        kiosk = desk().identify(key) if 20 <= len(key) <= 128 else None
        if kiosk is None:
            return answer("unauthorized", _language(None))
        g.kiosk = kiosk
        return None

    @bp.after_request
    def count_guesses(response: Response) -> Response:
        if g.get("status") in GUESSES:
            limit.count(g.kiosk.id)
        return response

    @bp.post("/checkin")
    def checkin() -> Response:
        return handle(limit, dry_run=False)

    @bp.post("/lookup")
    def lookup() -> Response:
        return handle(limit, dry_run=True)

    return bp


def handle(limit: FailedCodeLimit, dry_run: bool) -> Response:
    kiosk: KioskInfo = g.kiosk
    lang = _language(kiosk)
    body = request.get_json(silent=True)
    code = body.get("code") if isinstance(body, dict) else None
    parsed = (
        parse(code, desk().keyring)
        if isinstance(code, str) and len(code) <= MAX_CODE_LENGTH
        else None
    )
    # The limit stops guessing. A verified signature is no guess, so a limited kiosk still
    # checks in the QR codes of the people queueing at it (and they skip a Redis round trip).
    if not isinstance(parsed, GenuineVoucher) and limit.reached(kiosk.id):
        return answer("rate_limited", lang)
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


def _language(kiosk: KioskInfo | None) -> str:
    asked = request.args.get("lang") or request.headers.get("Accept-Language", "")[:2]
    if asked in ("en", "sw"):
        return asked
    return kiosk.language if kiosk else "en"


def answer(status: str, lang: str, ticket: TicketInfo | None = None, **facts: Any) -> Response:
    if ticket is not None:
        facts.setdefault("queue_number", ticket.queue_number)
    body = {
        "status": status,
        "message": message(status, lang, **facts),
        "ticket": _ticket_json(ticket) if ticket is not None else None,
    }
    g.status = status
    response = jsonify(body)
    response.status_code = HTTP_STATUS[status]
    response.headers["Cache-Control"] = "no-store"
    return response


def _ticket_json(ticket: TicketInfo) -> dict[str, Any]:
    return {
        "queue_number": ticket.queue_number,
        "hospital": ticket.hospital,
        "department": ticket.department,
        "room": ticket.room,
        "doctor": ticket.doctor,
        "starts_at": ticket.starts_at.isoformat(),
        "checked_in_at": ticket.checked_in_at.isoformat() if ticket.checked_in_at else None,
    }
