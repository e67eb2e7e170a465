"""Who may get an SMS: numbers of the allowed regions, of a type that can be texted, and at
most `daily_notice_limit` notices a day (security review #22: spoofed caller ids must not turn
the gateway into an SMS pump or an SMS bomb).

The relay asks here before it stores any message, and the inbound SMS handler before it answers
in a Twilio TwiML reply, so the rule holds for every outbound SMS. A refusal is counted in
`ors_sms_refused_total{reason}`; the relay keeps the message with the terminal status `refused`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import phonenumbers
from phonenumbers import PhoneNumberType
from prometheus_client import Counter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.messaging import statuses
from gateway.messaging.models import Message
from gateway.settings import Settings

REGION, NUMBER_TYPE, INVALID, DAILY_LIMIT = "region", "number_type", "invalid", "daily_limit"
REFUSED = Counter("ors_sms_refused", "Outbound SMS refused before sending", ["reason"])
# Numbers a person carries or answers. Premium, shared-cost, toll-free, UAN, personal, pager,
# voicemail and VoIP ranges are refused: they are where SMS pumping earns money, and VoIP
# numbers are cheap to hold in bulk; a short code never parses as a valid number (`invalid`).
TEXTABLE = frozenset(
    {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.FIXED_LINE}
)
# Vouchers and one-time codes answer what the citizen just did: never capped. `claim` is the
# second half of a voice booking's voucher (without it the booking is silently released).
# Notices about a booking the citizen holds (a cancellation, a release, a reminder) are never
# capped either: silent spoofed calls could otherwise spend the allowance on "call again"
# SMS and a real cancellation would never arrive.
UNCAPPED = frozenset(
    {
        "voucher",
        "rebooked",
        "invited",
        "claim",
        "phone_code",
        "cancelled",
        "cancelled_by_staff",
        "released",
        "reminder",
        "invitation_expired",
    }
)
CAP_WINDOW = timedelta(days=1)


def allowed_regions(settings: Settings) -> frozenset[str]:
    return frozenset(settings.sms_allowed_regions or (settings.default_region,))


def number_refusal(phone: str, regions: frozenset[str]) -> str | None:
    """Why `phone` (E.164) may never get an SMS from us, or None when it may."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return INVALID
    if not phonenumbers.is_valid_number(number):
        return INVALID
    if phonenumbers.region_code_for_number(number) not in regions:
        return REGION
    if phonenumbers.number_type(number) not in TEXTABLE:
        return NUMBER_TYPE
    return None


def refusal(
    session: Session, settings: Settings, phone: str, template: str, now: datetime
) -> str | None:
    """Why the message `template` to `phone` must not be sent, or None.

    The daily count is read in the caller's transaction, so the messages it has added count
    too. Relays running at once on several workers may each pass the last free place: the cap
    can be overshot by the number of relays in flight, never more.
    """
    reason = number_refusal(phone, allowed_regions(settings))
    if reason is not None or template in UNCAPPED:
        return reason
    if _notices_since(session, phone, now - CAP_WINDOW) >= settings.daily_notice_limit:
        return DAILY_LIMIT
    return None


def count(reason: str) -> None:
    REFUSED.labels(reason).inc()


def _notices_since(session: Session, phone: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.to_phone == phone,
                Message.created_at >= since,
                Message.template.not_in(UNCAPPED),
                Message.status != statuses.REFUSED,
            )
        )
        or 0
    )
