"""Book a slot: the hot path of every USSD and IVR booking, citizen row locked before the slot.

Core statements on a Connection, the catalogue from the process's cache; the new booking
itself is `sql.bookings.insert_booking`, which invitations and rebooking share.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from gateway.booking.catalogue.cache import CatalogueCache
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotFound, SlotFull
from gateway.booking.domain.persons import named
from gateway.booking.domain.states import HoldState
from gateway.booking.models import Booking, Slot, Voucher
from gateway.booking.operations import claims
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.sql import admission, holds, persons
from gateway.booking.sql.admission import Admission
from gateway.booking.sql.bookings import CONFIRMED, Booked, NewBooking, Place, insert_booking
from gateway.booking.sql.citizens import CitizenRow, lock_row
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.vouchers import CURRENT_FIRST, IssuedVoucher
from gateway.booking.views.readside import next_free_times
from gateway.settings import BookingSettings
from tcode.keys import SigningKey

BOOKINGS, SLOTS, VOUCHERS = Booking.__table__, Slot.__table__, Voucher.__table__
STAFF_CHANNEL = "staff"  # staff booked for the citizen (an invitation with a slot)


def consents(channel: str) -> bool:
    """Whether booking on `channel` is the citizen's own act, after the privacy notice of the
    menus: not staff booking for them, and not a voice claim (a forged caller id must not
    consent for the phone's owner; a claim's owner consents when confirming it)."""
    return channel != STAFF_CHANNEL and not claims.is_claim(channel)


def scoped_key(channel: str, citizen_id: int, key: str | None) -> str | None:
    """The stored idempotency key: the channel's key (its provider session) scoped to the
    channel and the citizen, so a session id reused for another phone never finds another
    citizen's booking (and the lookup names the citizen too). Long keys are hashed to fit."""
    if key is None:
        return None
    scoped = f"{channel}:{citizen_id}:{key}"
    if len(scoped) <= 120:
        return scoped
    return f"{channel}:{citizen_id}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def book(
    db: Connection,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    phone: str,
    slot_id: int,
    channel: str,
    idempotency_key: str | None,
    key: SigningKey,
    now: datetime,
    person_id: int | None = None,
) -> Booked:
    """Book a place for a person of the phone (None: its holder, "Me"), in about six
    statements (one more for a phone with dependants: its household).

    The phone's live hold on this slot becomes the booking's place; without one a place is
    claimed here. A retried request with the same idempotency key returns the first booking:
    the key is looked up after the holder's lock, which every booking of the phone's persons
    takes first, so a parallel retry waits and finds it and the per-person and per-phone
    limits see each other's bookings.
    """
    holder = lock_row(db, phone, now, consent=consents(channel))
    citizen, household = persons.for_booking(db, holder, person_id, now)
    idempotency_key = scoped_key(channel, citizen.id, idempotency_key)
    slot = admission.read(db, citizen.id, phone, slot_id, now, idempotency_key)
    if slot.earlier is not None:
        return _earlier(db, catalogue, slot.earlier)
    dept = catalogue.department(slot.department_id)
    rules = booking_settings.rules_for(dept.hospital_code)
    unconfirmed = claims.is_claim(channel)
    admission.admit_person(citizen, household, slot, dept, booking_settings, now, not unconfirmed)
    if unconfirmed:
        claims.check_claim_allowed(db, holder.id, dept.hospital_id, slot.day, rules)
    place_held_or_free(db, slot.hold, citizen.id, slot.slot_id, dept, now)
    place = Place(slot.slot_id, slot.department_id, slot.day, dept.hospital_code)
    new = insert_booking(
        db,
        citizen.id,
        phone,
        place,
        channel,
        key,
        now,
        idempotency_key=idempotency_key,
        unconfirmed=unconfirmed,
    )
    return _booked(new, slot, dept, citizen)


def book_at_desk(
    db: Connection,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    person_id: int,
    slot_id: int,
    key: SigningKey,
    now: datetime,
    actor: str,
) -> Booked:
    """Staff book a slot for a person at the desk: any person of a phone, or one without a
    phone (whose voucher is printed). The person's and the phone's rules hold as for the
    citizen's own booking, and the guard row (the holder's, or the person's own) is locked
    first, as every booking of the household does."""
    guard_row = persons.lock_guard(db, person_id)
    if guard_row is None:
        raise NotFound(what="person")
    citizen, household = persons.for_booking(db, guard_row, person_id, now)
    slot = admission.read(db, citizen.id, citizen.phone, slot_id, now)
    dept = catalogue.department(slot.department_id)
    admission.admit_person(citizen, household, slot, dept, booking_settings, now)
    place_held_or_free(db, slot.hold, citizen.id, slot.slot_id, dept, now)
    place = Place(slot.slot_id, slot.department_id, slot.day, dept.hospital_code)
    new = insert_booking(db, citizen.id, citizen.phone, place, STAFF_CHANNEL, key, now)
    record_staff_action(db, actor, "book", new.ref, f"person {person_id}", now)
    return _booked(new, slot, dept, citizen)


def _booked(new: NewBooking, slot: Admission, dept: DepartmentInfo, person: CitizenRow) -> Booked:
    """The booking just made, as the confirmation needs it."""
    status = str(CONFIRMED)
    return Booked(
        new.id, new.ref, True, slot.slot_id, slot.starts_at, status, new.voucher, dept,
        named(person),
    )  # fmt: skip


def place_held_or_free(
    db: Connection,
    hold: holds.HoldRow | None,
    person_id: int,
    slot_id: int,
    dept: DepartmentInfo,
    now: datetime,
) -> None:
    """Take the place of a booking of `slot_id` for a person: the phone's live hold on it for
    that person, or a free one (a hold for another person of the phone stays theirs)."""
    if hold is not None and hold.slot_id == slot_id and hold.citizen_id == person_id:
        if hold.live(now) and holds.take_over(db, hold):
            return  # the held place becomes the booking's: the counter stays
        # Expired: its place goes back and is claimed afresh, if nobody else has it by now.
        holds.drop_hold(db, hold, now, HoldState.EXPIRED)
    if not holds.claim_or_reclaim(db, slot_id, now):
        raise SlotFull(next_times=next_free_times(db, slot_id, dept, now))


_EARLIER = DriverStatement(
    select(
        BOOKINGS.c.id,
        BOOKINGS.c.ref,
        BOOKINGS.c.slot_id,
        BOOKINGS.c.status,
        SLOTS.c.starts_at,
        SLOTS.c.department_id,
        VOUCHERS.c.id,
        VOUCHERS.c.tcode,
        VOUCHERS.c.ref,
    )
    .join(SLOTS, SLOTS.c.id == BOOKINGS.c.slot_id)
    .join(VOUCHERS, VOUCHERS.c.booking_id == BOOKINGS.c.id)
    .where(BOOKINGS.c.id == bindparam("booking_id"))
    .order_by(*CURRENT_FIRST)
    .limit(1)
)


def _earlier(db: Connection, catalogue: CatalogueCache, booking_id: int) -> Booked:
    """The booking a retried request already made, as it stands now."""
    row = _EARLIER.run(db, {"booking_id": booking_id}).one()
    voucher = IssuedVoucher(row[6], row[7], row[8])
    dept = catalogue.department(row[5])
    return Booked(row[0], row[1], False, row[2], row[4], row[3], voucher, dept)
