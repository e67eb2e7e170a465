"""New bookings: the one INSERT every way of booking shares, with its voucher and its event.

`book` (USSD, IVR), an invitation (staff's slot, or the citizen's pick in a window) and a
rebook to another hospital all add a booking here, on a place already taken for it: the row,
its signed voucher and, unless the caller announces it another way, one `booking.confirmed`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert

from gateway.booking.domain import events
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.states import BookingStatus
from gateway.booking.models import Booking
from gateway.booking.sql import vouchers
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.events import record
from gateway.booking.sql.executor import Executor
from gateway.booking.sql.vouchers import IssuedVoucher
from tcode.keys import SigningKey

BOOKINGS = Booking.__table__
REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud at a desk
CONFIRMED = BookingStatus.CONFIRMED  # a new booking holds its place at once (BOOKING.initial)

_INSERT = DriverStatement(insert(BOOKINGS).returning(BOOKINGS.c.id))


def new_booking_ref() -> str:
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class Booked:
    """A booking as an operation made, found or changed it: what the confirmation needs, no ORM object."""

    id: int
    ref: str
    created: bool
    slot_id: int
    starts_at: datetime
    status: str
    voucher: IssuedVoucher
    dept: DepartmentInfo
    person: str | None = None  # a dependant's first name; None for the phone's holder


@dataclass(frozen=True)
class Place:
    """Where a new booking goes: the slot, its department and day, the hospital's code."""

    slot_id: int
    department_id: int
    day: date
    hospital_code: str


@dataclass(frozen=True)
class NewBooking:
    id: int
    ref: str
    voucher: IssuedVoucher


def insert_booking(
    db: Executor,
    citizen_id: int,
    phone: str,
    place: Place,
    channel: str,
    key: SigningKey,
    now: datetime,
    *,
    kind: str = "booking",
    idempotency_key: str | None = None,
    unconfirmed: bool = False,
    announce: bool = True,
    rebooked_from: str | None = None,
) -> NewBooking:
    """Add a confirmed remote booking of a place already taken, its voucher and its event.

    `announce=False` when another event tells the citizen (an invitation's); `rebooked_from`
    names the booking a rebook to another hospital replaces.
    """
    ref = new_booking_ref()
    booking_id = _INSERT.run(
        db,
        {
            "ref": ref,
            "citizen_id": citizen_id,
            "slot_id": place.slot_id,
            "department_id": place.department_id,
            "day": place.day,
            "status": str(CONFIRMED),
            "channel": channel,
            "kind": kind,
            "remote": True,
            "idempotency_key": idempotency_key,
            "created_at": now,
            "confirmed_at": now,
            "unconfirmed": unconfirmed,
        },
    ).scalar_one()
    voucher = vouchers.issue(db, booking_id, place.hospital_code, place.day, key, now)
    if announce:
        event = events.booking_confirmed(
            ref,
            booking_id=booking_id,
            slot_id=place.slot_id,
            citizen_id=citizen_id,
            phone=phone,
            channel=channel,
            voucher_id=voucher.id,
            unconfirmed=unconfirmed,
            rebooked_from=rebooked_from,
        )
        record(db, event, now)
    return NewBooking(booking_id, ref, voucher)
