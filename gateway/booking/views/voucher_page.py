"""What the voucher page shows: one query by the link's ref, and the cached QR image.

A voucher link is gone (410) as soon as the appointment is no longer ahead: its booking
cancelled or the voucher replaced (rebooked), expired or the person erased, or the slot over —
its end and the last minute of check-in both past. The page then says nothing about it.

It speaks the language of the phone's holder (a dependant's guardian), as the voucher SMS does,
and names whose appointment it is by first name — a dependant's, or that of a person without a
phone (their voucher is printed) — never the holder's own ("Me").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from gateway.booking.domain.names import in_language
from gateway.booking.domain.persons import first_name, has_phone
from gateway.booking.domain.rules import checkin_window
from gateway.booking.domain.states import ACTIVE_BOOKING_STATUSES, LIVE_VOUCHER_STATES
from gateway.booking.models import Booking, Citizen, Department, Slot, Voucher, VoucherImage
from gateway.settings import BookingSettings


@dataclass(frozen=True)
class VoucherView:
    id: int
    ref: str
    tcode: str
    payload: str
    state: str  # issued | used | replaced | cancelled | expired
    booking_status: str
    hospital: str
    department: str | None  # None for a sensitive department: the page says "Appointment"
    room: str | None
    starts_at: datetime  # hospital-local
    language: str | None  # the phone holder's
    hospital_code: str = ""
    ends_at: datetime | None = None
    anonymised: bool = False  # the person was erased or aged out
    person: str | None = None  # whose appointment, by first name; None for the holder ("Me")

    @property
    def live(self) -> bool:
        return self.state in LIVE_VOUCHER_STATES

    def gone(self, now: datetime, booking_settings: BookingSettings) -> bool:
        """Whether the link is no longer to show anything: see the module's docstring."""
        if not self.live or self.booking_status not in ACTIVE_BOOKING_STATUSES or self.anonymised:
            return True
        rules = booking_settings.rules_for(self.hospital_code)
        last_checkin = checkin_window(self.starts_at, rules)[1]
        over = max(self.ends_at or self.starts_at, last_checkin)
        return now >= over


def voucher_by_ref(session: Session, ref: str) -> VoucherView | None:
    voucher = session.scalars(
        select(Voucher)
        .where(Voucher.ref == ref)
        .options(
            joinedload(Voucher.booking)
            .joinedload(Booking.slot)
            .joinedload(Slot.department)
            .joinedload(Department.hospital),
            joinedload(Voucher.booking).joinedload(Booking.citizen).joinedload(Citizen.guardian),
        )
    ).one_or_none()
    if voucher is None:
        return None
    booking = voucher.booking
    person = booking.citizen
    dept = booking.slot.department
    tz = ZoneInfo(dept.hospital.timezone)
    # Named as written (a web page shows any script), in the holder's language if translated.
    language = (person.guardian or person).language
    return VoucherView(
        id=voucher.id,
        ref=voucher.ref,
        tcode=voucher.tcode,
        payload=voucher.payload,
        state=voucher.state,
        booking_status=booking.status,
        hospital=in_language(dept.hospital.name, dept.hospital.names, language),
        department=None if dept.sensitive else in_language(dept.name, dept.names, language),
        room=None if dept.sensitive else dept.room,
        starts_at=booking.slot.starts_at.astimezone(tz),
        language=language,
        hospital_code=dept.hospital.code,
        ends_at=booking.slot.ends_at,
        anonymised=person.anonymised_at is not None,
        person=_named(person),
    )


def _named(person: Citizen) -> str | None:
    """A dependant's or a phoneless person's first name; None for the phone's holder, whom
    the page addresses (as the SMS does)."""
    if person.guardian_id is None and has_phone(person.phone):
        return None
    return first_name(person.name) or None


def cached_png(session: Session, voucher_id: int) -> bytes | None:
    return session.scalar(select(VoucherImage.png).where(VoucherImage.voucher_id == voucher_id))


def store_png(session: Session, voucher_id: int, png: bytes) -> None:
    """Keep the rendered image; a parallel first request that stored it already wins."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(VoucherImage).values(voucher_id=voucher_id, png=png).on_conflict_do_nothing()
    )
