"""Book and cancel: one unit of work each, citizen row locked before the slot."""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gateway.booking import blocks, capacity, holds
from gateway.booking.citizens import check_not_blocked, check_person_limits, lock_citizen
from gateway.booking.errors import NotActive, NotFound, NotOwner, SlotFull
from gateway.booking.events import record
from gateway.booking.models import Booking, Citizen, Department, Slot, Voucher
from gateway.booking.readside import next_free_times
from gateway.booking.registration import check_registered
from gateway.booking.rules import check_bookable, check_cancellable
from gateway.booking.vouchers import issue_voucher, live_voucher
from gateway.settings import BookingRules, BookingSettings
from tcode.keys import SigningKey

REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud at a desk


def new_booking_ref() -> str:
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(8))


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
    """Raise the first rule that keeps `citizen` from booking `slot` at `now`."""
    check_not_blocked(citizen, now, ZoneInfo(slot.department.hospital.timezone))
    check_registered(citizen, rules, slot.department.hospital.code)
    check_bookable(
        slot.starts_at, slot.day, ZoneInfo(slot.department.hospital.timezone), rules, now
    )
    check_person_limits(session, citizen, slot.day, slot.department_id, rules, exclude_booking)


def book(
    session: Session,
    booking_settings: BookingSettings,
    phone: str,
    slot_id: int,
    channel: str,
    idempotency_key: str | None,
    key: SigningKey,
    now: datetime,
) -> tuple[Booking, bool]:
    """Book a place for the phone's holder; returns (booking, created).

    The phone's live hold on this slot becomes the booking's place; without one a place is
    claimed here. A retried request with the same idempotency key returns the first booking.
    """
    citizen = lock_citizen(session, phone, now)
    if idempotency_key:  # looked up after the lock, so a parallel retry waits and finds it
        earlier = session.scalars(
            select(Booking).where(Booking.idempotency_key == idempotency_key)
        ).one_or_none()
        if earlier is not None:
            return earlier, False
    slot = load_slot(session, slot_id)
    rules = booking_settings.rules_for(slot.department.hospital.code)
    admit(session, citizen, slot, rules, now)
    take_place(session, phone, slot, now)
    booking, voucher = new_booking(
        session, citizen, slot, channel, "booking", key, now, idempotency_key
    )
    announce_confirmed(session, booking, voucher, now)
    return booking, True


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
    if hold is not None and hold.slot_id == slot.id:
        if hold.expires_at > now:
            session.delete(hold)  # the held place becomes the booking's: the counter stays
            return
        # Expired: its place goes back and is claimed afresh, if nobody else has it by now.
        holds.drop_hold(session, hold, now, "hold.expired")
    if not holds.claim_or_reclaim(session, slot.id, now):
        raise SlotFull(next_times=next_free_times(session, slot, now))


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
) -> None:
    """Cancel a locked, confirmed booking: voucher void, remote place back, one event."""
    booking.status, booking.cancelled_at = "cancelled", now
    booking.cancelled_by, booking.cancel_reason = by, reason[:200]
    booking.rebooked_to = rebooked_to.ref if rebooked_to is not None else None
    voucher = live_voucher(booking)
    if voucher is not None:
        voucher.state, voucher.changed_at = "cancelled", now
    if booking.remote:
        capacity.give_back(session, booking.slot_id)
    extra = {"rebooked_to": rebooked_to.ref} if rebooked_to is not None else {}
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
