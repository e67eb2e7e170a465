"""Kiosk JSON API: `POST /kiosk/api/v1/checkin` and `/lookup` with DESIGN §8's statuses.

A QR payload is verified (signature) and typed digits Damm-checked before anything touches
the database; failed codes count against a per-kiosk rate limit.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

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


def _limit_key() -> str:
    kiosk = g.get("kiosk")
    return f"kiosk:{kiosk.id}" if kiosk else f"ip:{get_remote_address()}"


def create_api(failed_code_limit: str, storage_uri: str) -> tuple[Blueprint, Limiter]:
    """The API blueprint and its limiter; the app must call `limiter.init_app(app)`."""
    bp = Blueprint("kiosk_api", __name__, url_prefix="/kiosk/api/v1")
    limiter = Limiter(
        key_func=_limit_key,
        storage_uri=storage_uri,
        strategy="moving-window",
        headers_enabled=False,
    )
    # Only this blueprint has a limit: every other request (each USSD hop) skips the limiter
    # before it resolves anything.
    limiter.request_filter(lambda: request.blueprint != bp.name)
    failed = limiter.limit(
        failed_code_limit,
        key_func=_limit_key,
        deduct_when=lambda response: response.status_code >= 400,
    )

    @bp.before_request
    def authenticate() -> Response | None:
        header = request.headers.get("Authorization", "")
        key = header[7:].strip() if header[:7].lower() == "bearer " else ""
        kiosk = desk().identify(key) if 20 <= len(key) <= 128 else None
        if kiosk is None:
            return answer("unauthorized", _language(None))
        g.kiosk = kiosk
        return None

    @bp.errorhandler(429)
    def too_many(_error: Exception) -> Response:
        return answer("rate_limited", _language(g.get("kiosk")))

    @bp.post("/checkin")
    @failed
    def checkin() -> Response:
        return handle(dry_run=False)

    @bp.post("/lookup")
    @failed
    def lookup() -> Response:
        return handle(dry_run=True)

    return bp, limiter


def handle(dry_run: bool) -> Response:
    kiosk: KioskInfo = g.kiosk
    lang = _language(kiosk)
    body = request.get_json(silent=True)
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH:
        return answer("bad_code", lang)
    parsed = parse(code, desk().keyring)
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
