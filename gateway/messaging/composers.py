"""From an outbox event to a draft SMS: who gets it, in which language, with which text.

One composer per template family, each reading what it needs in the relay's transaction.
A composer returns None when there is nothing to send (the booking has vanished).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.models import Booking, Department, Event, Slot, Voucher
from gateway.messaging.compose import Appointment, render
from gateway.messaging.texts import Texts
from gateway.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    template: str
    language: str
    to_phone: str
    body: str


@dataclass(frozen=True)
class Context:
    settings: Settings
    texts: dict[str, Texts]

    def language(self, preferred: str | None) -> str:
        if preferred in self.texts:
            return preferred
        return self.settings.default_language

    def link(self, voucher_ref: str) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/v/{voucher_ref}"


def voucher(session: Session, event: Event, ctx: Context) -> Draft | None:
    """The confirmation: date, T-code, link to the QR page, how to cancel."""
    booking = _booking(session, event.payload.get("booking_id"))
    voucher_id = event.payload.get("voucher_id")
    found = session.get(Voucher, voucher_id) if isinstance(voucher_id, int) else None
    if booking is None or found is None:
        return None
    language = ctx.language(booking.citizen.language)
    body = render(
        ctx.texts[language], "voucher", _appointment(booking, found), link=ctx.link(found.ref)
    )
    return Draft("voucher", language, booking.citizen.phone, body)


def cancellation(session: Session, event: Event, ctx: Context) -> Draft | None:
    """The notice of a cancellation, by the citizen or by staff (then with the reason)."""
    booking = _booking(session, event.payload.get("booking_id"))
    if booking is None or not booking.vouchers:
        return None
    by_staff = event.payload.get("by") == "staff"
    name = "cancelled_by_staff" if by_staff else "cancelled"
    language = ctx.language(booking.citizen.language)
    body = render(
        ctx.texts[language],
        name,
        _appointment(booking, booking.vouchers[-1]),
        shortcode=ctx.settings.ussd_service_code,
        reason=str(event.payload.get("reason") or "") if by_staff else "",
    )
    return Draft(name, language, booking.citizen.phone, body)


Composer = Callable[[Session, Event, Context], "Draft | None"]
COMPOSERS: dict[str, Composer] = {"voucher": voucher, "cancellation": cancellation}


def _booking(session: Session, booking_id: object) -> Booking | None:
    if not isinstance(booking_id, int):
        return None
    booking = (
        session.scalars(
            select(Booking)
            .where(Booking.id == booking_id)
            .options(
                joinedload(Booking.slot)
                .joinedload(Slot.department)
                .joinedload(Department.hospital),
                joinedload(Booking.citizen),
                joinedload(Booking.vouchers),
            )
        )
        .unique()
        .one_or_none()
    )
    if booking is None:
        log.warning("event names booking %s, which does not exist", booking_id)
    return booking


def _appointment(booking: Booking, found: Voucher) -> Appointment:
    department = booking.slot.department
    hospital = department.hospital
    return Appointment(
        hospital_code=hospital.code,
        department=department.name_gsm,
        sensitive=department.sensitive,
        starts_at=booking.slot.starts_at.astimezone(ZoneInfo(hospital.timezone)),
        tcode=found.tcode,
    )
