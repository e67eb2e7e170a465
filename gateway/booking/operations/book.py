"""Book and cancel: one unit of work each, citizen row locked before the slot.

`book` is the hot path (every USSD and IVR booking): Core statements on a Connection, the
catalogue from the process's cache. Cancel, rebook and invitations work on ORM objects.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.orm import Session, joinedload

from gateway.booking.catalogue.cache import CatalogueCache
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotActive, NotFound, NotOwner, SlotFull
from gateway.booking.domain.persons import check_not_blocked, check_registered
from gateway.booking.domain.rules import check_bookable, check_cancellable
from gateway.booking.models import Booking, Citizen, Department, Slot, Voucher
from gateway.booking.operations import blocks, claims
from gateway.booking.sql import admission, capacity, holds, vouchers
from gateway.booking.sql.citizens import (
    check_person_limits,
    lock_citizen,
    lock_row,
)
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.events import record
from gateway.booking.sql.executor import Executor
from gateway.booking.sql.vouchers import IssuedVoucher, issue_voucher, live_voucher
from gateway.booking.views.readside import next_free_times
from gateway.settings import BookingRules, BookingSettings
from tcode.keys import SigningKey

BOOKINGS, SLOTS, VOUCHERS = Booking.__table__, Slot.__table__, Voucher.__table__
REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud at a desk
STAFF_CHANNEL = "staff"  # staff booked for the citizen (an invitation with a slot)


def consents(channel: str) -> bool:
    """Whether booking on `channel` is the citizen's own act, after the privacy notice of the
    menus: not staff booking for them, and not a voice claim (a forged caller id must not
    consent for the phone's owner; a claim's owner consents when confirming it)."""
    return channel != STAFF_CHANNEL and not claims.is_claim(channel)


def new_booking_ref() -> str:
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(8))


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


def load_slot(session: Session, slot_id: int) -> Slot:
    slot = session.scalars(
        select(Slot)
        .where(Slot.id == slot_id)
        .options(joinedload(Slot.department).joinedload(Department.hospital))
    ).one_or_none()
    if slot is None:
        raise NotFound(what="slot")
    return slot


def admit(
    session: Session,
    citizen: Citizen,
    slot: Slot,
    rules: BookingRules,
    now: datetime,
    exclude_booking: int | None = None,
) -> None:
    """Raise the first rule that keeps `citizen` from booking `slot` at `now` (ORM use cases)."""
    tz = ZoneInfo(slot.department.hospital.timezone)
    check_not_blocked(citizen, now, tz)
    check_registered(citizen, rules, slot.department.hospital.code)
    check_bookable(slot.starts_at, slot.day, tz, rules, now)
    check_person_limits(session, citizen, slot.day, slot.department_id, rules, exclude_booking)


@dataclass(frozen=True)
class Booked:
    """A booking as `book` made (or found) it: what the confirmation needs, no ORM object."""

    id: int
    ref: str
    created: bool
    slot_id: int
    starts_at: datetime
    status: str
    voucher: IssuedVoucher
    dept: DepartmentInfo


_INSERT_BOOKING = DriverStatement(insert(BOOKINGS).returning(BOOKINGS.c.id))


def book(
    db: Executor,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    phone: str,
    slot_id: int,
    channel: str,
    idempotency_key: str | None,
    key: SigningKey,
    now: datetime,
) -> Booked:
    """Book a place for the phone's holder, in about six statements.

    The phone's live hold on this slot becomes the booking's place; without one a place is
    claimed here. A retried request with the same idempotency key returns the first booking:
    the key is looked up after the citizen's lock, so a parallel retry waits and finds it.
    """
    citizen = lock_row(db, phone, now, consent=consents(channel))
    idempotency_key = scoped_key(channel, citizen.id, idempotency_key)
    slot = admission.read(db, citizen.id, phone, slot_id, now, idempotency_key)
    if slot.earlier is not None:
        return _earlier(db, catalogue, slot.earlier)
    dept = catalogue.department(slot.department_id)
    rules = booking_settings.rules_for(dept.hospital_code)
    unconfirmed = claims.is_claim(channel)
    admission.admit(citizen, slot, dept, rules, now, count_limits=not unconfirmed)
    if unconfirmed:
        claims.check_claim_allowed(db, citizen.id, dept.hospital_id, slot.day, rules)
    place_held_or_free(db, slot.hold, phone, slot.slot_id, dept, now)
    ref = new_booking_ref()
    booking_id = _INSERT_BOOKING.run(
        db,
        {
            "ref": ref,
            "citizen_id": citizen.id,
            "slot_id": slot.slot_id,
            "department_id": slot.department_id,
            "day": slot.day,
            "status": "confirmed",
            "channel": channel,
            "kind": "booking",
            "remote": True,
            "idempotency_key": idempotency_key,
            "created_at": now,
            "confirmed_at": now,
            "unconfirmed": unconfirmed,
        },
    ).scalar_one()
    voucher = vouchers.issue(db, booking_id, dept.hospital_code, slot.day, key, now)
    record(
        db,
        "booking.confirmed",
        ref,
        now,
        booking_id=booking_id,
        slot_id=slot.slot_id,
        citizen_id=citizen.id,
        phone=phone,
        channel=channel,
        voucher_id=voucher.id,
        **({"unconfirmed": True} if unconfirmed else {}),
    )
    return Booked(booking_id, ref, True, slot.slot_id, slot.starts_at, "confirmed", voucher, dept)


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
    # the live voucher if there is one, else the latest
    .order_by(
        or_(VOUCHERS.c.state == "issued", VOUCHERS.c.state == "used").desc(),
        VOUCHERS.c.id.desc(),
    )
    .limit(1)
)


def _earlier(db: Executor, catalogue: CatalogueCache, booking_id: int) -> Booked:
    """The booking a retried request already made, as it stands now."""
    row = _EARLIER.run(db, {"booking_id": booking_id}).one()
    voucher = IssuedVoucher(row[6], row[7], row[8])
    dept = catalogue.department(row[5])
    return Booked(row[0], row[1], False, row[2], row[4], row[3], voucher, dept)


def new_booking(
    session: Session,
    citizen: Citizen,
    slot: Slot,
    channel: str,
    kind: str,
    key: SigningKey,
    now: datetime,
    idempotency_key: str | None = None,
) -> tuple[Booking, Voucher]:
    """Add a confirmed remote booking of a place already taken, with its signed voucher."""
    if citizen.consent_at is None and consents(channel):
        citizen.consent_at = now  # the first booking: recorded once, never overwritten
    booking = Booking(
        ref=new_booking_ref(),
        citizen=citizen,
        slot=slot,
        department_id=slot.department_id,
        day=slot.day,
        status="confirmed",
        channel=channel,
        kind=kind,
        remote=True,
        idempotency_key=idempotency_key,
        created_at=now,
        confirmed_at=now,
    )
    session.add(booking)
    voucher = issue_voucher(session, booking, key, now)
    session.flush()
    return booking, voucher


def announce_confirmed(
    session: Session, booking: Booking, voucher: Voucher, now: datetime, **extra: object
) -> None:
    record(
        session,
        "booking.confirmed",
        booking.ref,
        now,
        booking_id=booking.id,
        slot_id=booking.slot_id,
        citizen_id=booking.citizen_id,
        phone=booking.citizen.phone,
        channel=booking.channel,
        voucher_id=voucher.id,
        **extra,
    )


def take_place(session: Session, phone: str, slot: Slot, now: datetime) -> None:
    """Give the phone's live hold on `slot` to a booking, or claim a place; raise SlotFull."""
    hold = holds.find_hold(session, phone, lock=True)
    place_held_or_free(session, hold, phone, slot.id, department_info(slot), now)


def place_held_or_free(
    db: Executor,
    hold: holds.HoldRow | None,
    phone: str,
    slot_id: int,
    dept: DepartmentInfo,
    now: datetime,
) -> None:
    """Take the place of a booking of `slot_id`: the phone's live hold on it, or a free one."""
    if hold is not None and hold.slot_id == slot_id:
        if hold.live(now) and holds.take_over(db, hold):
            return  # the held place becomes the booking's: the counter stays
        # Expired: its place goes back and is claimed afresh, if nobody else has it by now.
        holds.drop_hold(db, hold, now, "hold.expired")
    if not holds.claim_or_reclaim(db, slot_id, now):
        raise SlotFull(next_times=next_free_times(db, slot_id, dept, now))


def department_info(slot: Slot) -> DepartmentInfo:
    """A loaded Slot's department, as the catalogue cache describes it."""
    return DepartmentInfo.of(slot.department, slot.department.hospital)


def find_locked(session: Session, ref: str, now: datetime) -> Booking:
    """The booking `ref`, locked after its citizen (the lock order of every use case)."""
    booking = session.scalars(select(Booking).where(Booking.ref == ref)).one_or_none()
    if booking is None:
        raise NotFound(what="booking")
    lock_citizen(session, booking.citizen.phone, now)
    session.refresh(booking, with_for_update=True)
    return booking


def cancel(
    session: Session,
    booking_settings: BookingSettings,
    ref: str,
    by: str,
    reason: str,
    now: datetime,
    phone: str | None = None,
) -> Booking:
    """Cancel a confirmed booking; citizens only from their phone and before the deadline.

    A citizen's cancellation counts toward the cancellation block of the booking's hospital.
    """
    booking = find_locked(session, ref, now)
    if phone is not None and booking.citizen.phone != phone:
        raise NotOwner()
    if booking.status != "confirmed":
        raise NotActive(status=booking.status)
    slot = load_slot(session, booking.slot_id)
    rules = booking_settings.rules_for(slot.department.hospital.code)
    if by == "citizen":
        # Hospital-local, so the refusal's deadline reads as the hospital's clock time.
        local_start = slot.starts_at.astimezone(ZoneInfo(slot.department.hospital.timezone))
        check_cancellable(local_start, rules, now)
    void(session, booking, by, reason, now)
    if by == "citizen":
        blocks.apply_policy(session, booking.citizen, rules.cancel_block, "cancellation", now)
    return booking


def void(
    session: Session,
    booking: Booking,
    by: str,
    reason: str,
    now: datetime,
    rebooked_to: Booking | None = None,
    because: str | None = None,
) -> None:
    """Cancel a locked, confirmed booking: voucher void, remote place back, one event.

    `because` names a system cause the citizen's notice explains (e.g. "unconfirmed")."""
    booking.status, booking.cancelled_at = "cancelled", now
    booking.cancelled_by, booking.cancel_reason = by, reason[:200]
    booking.rebooked_to = rebooked_to.ref if rebooked_to is not None else None
    voucher = live_voucher(booking)
    if voucher is not None:
        voucher.state, voucher.changed_at = "cancelled", now
    if booking.remote:
        capacity.give_back(session, booking.slot_id)
    extra = {"rebooked_to": rebooked_to.ref} if rebooked_to is not None else {}
    if because is not None:
        extra["because"] = because
    record(
        session,
        "booking.cancelled",
        booking.ref,
        now,
        booking_id=booking.id,
        by=by,
        reason=reason[:200],
        phone=booking.citizen.phone,
        **extra,
    )
