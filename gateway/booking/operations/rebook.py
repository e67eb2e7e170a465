"""Rebook: move a confirmed booking to another slot, in one unit of work.

Same hospital: the booking keeps its reference; its voucher becomes `replaced` and a new one is
issued (the signed QR names the day, so the T-code must change). Another hospital: the booking
is cancelled and a new one made. The new place is taken before the old one is given back, so a
full new slot raises SlotFull and the rolled-back unit of work leaves the original untouched.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from gateway.booking.catalogue.cache import CatalogueCache
from gateway.booking.domain import events
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotActive, NotOwner
from gateway.booking.domain.persons import named
from gateway.booking.domain.rules import check_cancellable
from gateway.booking.domain.states import BOOKING
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.operations.book import consents, place_held_or_free
from gateway.booking.operations.cancel import (
    CITIZEN,
    STAFF,
    as_booked,
    check_active,
    find_locked,
    void,
)
from gateway.booking.sql import (
    admission,
    capacity,
    citizens,
    holds,
    persons,
    transitions,
    vouchers,
)
from gateway.booking.sql.admission import Admission
from gateway.booking.sql.bookings import CONFIRMED, Booked, Place, insert_booking
from gateway.booking.sql.events import record
from gateway.booking.sql.transitions import LockedBooking
from gateway.settings import BookingSettings
from tcode.keys import SigningKey

REBOOKED = "rebooked"  # the cancel reason of a booking replaced at another hospital


def rebook(
    db: Connection,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    ref: str,
    slot_id: int,
    by: str,
    key: SigningKey,
    now: datetime,
    phone: str | None = None,
    actor: str | None = None,
) -> Booked:
    """Move booking `ref` to `slot_id`; returns the booking now holding the place (`created`
    when it is a new one, at another hospital).

    Citizens rebook only from the owner's phone and before the cancellation deadline; staff at
    any time (`actor` goes to the audit trail). The new slot is admitted by the rules of
    `book`, not counting the old booking; a full new slot raises SlotFull.
    """
    moved = _rebook(db, catalogue, booking_settings, ref, slot_id, by, key, now, phone)
    if by == STAFF:
        record_staff_action(db, actor, "rebook", ref, f"to {moved.ref}", now)
    return moved


def _rebook(
    db: Connection,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    ref: str,
    slot_id: int,
    by: str,
    key: SigningKey,
    now: datetime,
    phone: str | None,
) -> Booked:
    booking = find_locked(db, ref)
    citizen = booking.citizen
    if (phone is not None and citizen.phone != phone) or (by == CITIZEN and phone is None):
        raise NotOwner()
    check_active(booking)
    if booking.slot_id == slot_id:
        return as_booked(db, booking, booking.status)  # a retried request: already there
    if by == CITIZEN:  # the deadline is told in the hospital's local time
        rules = booking_settings.rules_for(booking.dept.hospital_code)
        check_cancellable(booking.starts_at.astimezone(booking.dept.timezone), rules, now)
    slot = admission.read(db, citizen.id, citizen.phone, slot_id, now)
    dept = catalogue.department(slot.department_id)
    rules = booking_settings.rules_for(dept.hospital_code)
    # The phone's rules too (a blocked phone rebooks nothing); its live bookings stay as many.
    household = persons.household_of_person(db, citizen, now)
    admission.admit(
        citizen,
        slot,
        dept,
        rules,
        now,
        count_limits=False,
        household=household,
        persons=booking_settings.persons,
    )
    citizens.check_person_limits(
        db, citizen, slot.day, slot.department_id, rules, exclude_booking=booking.id
    )
    # The phone's hold first, as the hold sweeper takes it; then both slots in id order, so
    # two rebooks crossing the same pair of slots in opposite directions cannot deadlock.
    hold = holds.find_hold(db, citizen.phone, lock=True)
    capacity.lock_in_order(db, booking.slot_id, slot_id)
    place_held_or_free(db, hold, citizen.id, slot_id, dept, now)
    if booking.dept.hospital_id == dept.hospital_id:
        return _move(db, booking, slot, dept, by, key, now)
    return _replace(db, booking, slot, dept, by, key, now)


def _move(
    db: Connection,
    booking: LockedBooking,
    slot: Admission,
    dept: DepartmentInfo,
    by: str,
    key: SigningKey,
    now: datetime,
) -> Booked:
    """Same hospital: keep the reference, give the old place back, replace the voucher."""
    if not transitions.move(db, booking.id, slot.slot_id, slot.department_id, slot.day):
        raise NotActive(status=booking.status)  # nothing given back: the caller rolls back
    if booking.remote:
        capacity.give_back(db, booking.slot_id)
    replaced = vouchers.replace_live(db, booking.id, now)
    voucher = vouchers.issue(db, booking.id, dept.hospital_code, slot.day, key, now)
    event = events.booking_rebooked(
        booking.ref,
        booking_id=booking.id,
        old_slot_id=booking.slot_id,
        slot_id=slot.slot_id,
        voucher_id=voucher.id,
        replaced_voucher_id=replaced,
        by=by,
        phone=booking.citizen.phone,
    )
    record(db, event, now)
    status = str(BOOKING.target("move"))
    who = named(booking.citizen)
    return Booked(
        booking.id, booking.ref, False, slot.slot_id, slot.starts_at, status, voucher, dept, who
    )


def _replace(
    db: Connection,
    booking: LockedBooking,
    slot: Admission,
    dept: DepartmentInfo,
    by: str,
    key: SigningKey,
    now: datetime,
) -> Booked:
    """Another hospital: cancel the booking and make a new one there, on the same channel."""
    citizen = booking.citizen
    if consents(booking.channel):
        citizens.record_consent(db, citizen.id, now)
    place = Place(slot.slot_id, slot.department_id, slot.day, dept.hospital_code)
    new = insert_booking(
        db,
        citizen.id,
        citizen.phone,
        place,
        booking.channel,
        key,
        now,
        kind=booking.kind,
        announce=False,  # after the cancellation, which names it: the citizen's notices' order
    )
    void(db, booking, by, REBOOKED, now, rebooked_to=new.ref)
    event = events.booking_confirmed(
        new.ref,
        booking_id=new.id,
        slot_id=slot.slot_id,
        citizen_id=citizen.id,
        phone=citizen.phone,
        channel=booking.channel,
        voucher_id=new.voucher.id,
        rebooked_from=booking.ref,
    )
    record(db, event, now)
    return Booked(
        new.id, new.ref, True, slot.slot_id, slot.starts_at, str(CONFIRMED), new.voucher, dept,
        named(citizen),
    )  # fmt: skip
