"""Rebook: move a confirmed booking to another slot, in one unit of work.

Same hospital: the booking keeps its reference; its voucher becomes `replaced` and a new one is
issued (the signed QR names the day, so the T-code must change). Another hospital: the booking
is cancelled and a new one made. The new place is taken before the old one is given back, so a
full new slot raises SlotFull and the rolled-back unit of work leaves the original untouched.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.booking.domain.errors import NotActive, NotOwner
from gateway.booking.domain.rules import check_cancellable
from gateway.booking.models import Booking, Slot
from gateway.booking.operations.book import (
    admit,
    announce_confirmed,
    find_locked,
    load_slot,
    new_booking,
    take_place,
    void,
)
from gateway.booking.sql import capacity, holds
from gateway.booking.sql.events import record
from gateway.booking.sql.vouchers import issue_voucher, live_voucher
from gateway.settings import BookingSettings
from tcode.keys import SigningKey


def rebook(
    session: Session,
    booking_settings: BookingSettings,
    ref: str,
    slot_id: int,
    by: str,
    key: SigningKey,
    now: datetime,
    phone: str | None = None,
) -> tuple[Booking, bool]:
    """Move booking `ref` to `slot_id`; returns (the booking now holding the place, created).

    Citizens rebook only from the owner's phone and before the cancellation deadline; staff at
    any time. The new slot is admitted by the rules of `book`, not counting the old booking.
    """
    booking = find_locked(session, ref, now)
    citizen = booking.citizen
    if (phone is not None and citizen.phone != phone) or (by == "citizen" and phone is None):
        raise NotOwner()
    if booking.status != "confirmed":
        raise NotActive(status=booking.status)
    if booking.slot_id == slot_id:
        return booking, False  # a retried request: the booking is already there
    old_slot = load_slot(session, booking.slot_id)
    if by == "citizen":
        hospital = old_slot.department.hospital  # the deadline is told in its local time
        check_cancellable(
            old_slot.starts_at.astimezone(ZoneInfo(hospital.timezone)),
            booking_settings.rules_for(hospital.code),
            now,
        )
    new_slot = load_slot(session, slot_id)
    rules = booking_settings.rules_for(new_slot.department.hospital.code)
    admit(session, citizen, new_slot, rules, now, exclude_booking=booking.id)
    _lock_places(session, citizen.phone, old_slot.id, new_slot.id)
    take_place(session, citizen.phone, new_slot, now)
    if old_slot.department.hospital_id == new_slot.department.hospital_id:
        _move(session, booking, new_slot, by, key, now)
        return booking, False
    successor, voucher = new_booking(
        session, citizen, new_slot, booking.channel, booking.kind, key, now
    )
    void(session, booking, by, "rebooked", now, rebooked_to=successor)
    announce_confirmed(session, successor, voucher, now, rebooked_from=booking.ref)
    return successor, True


def _lock_places(session: Session, phone: str, *slot_ids: int) -> None:
    """Lock the phone's hold, then both slots in id order.

    Two rebooks crossing the same pair of slots in opposite directions would otherwise each
    hold one slot and wait for the other; the hold goes first, as the hold sweeper takes it.
    """
    holds.find_hold(session, phone, lock=True)
    session.execute(
        select(Slot.id).where(Slot.id.in_(slot_ids)).order_by(Slot.id).with_for_update()
    ).all()


def _move(
    session: Session, booking: Booking, slot: Slot, by: str, key: SigningKey, now: datetime
) -> None:
    """Same hospital: keep the reference, give the old place back, replace the voucher."""
    old_slot_id = booking.slot_id
    if booking.remote:
        capacity.give_back(session, old_slot_id)
    booking.slot, booking.department_id, booking.day = slot, slot.department_id, slot.day
    booking.remote = True  # the new place was taken from the remote pool
    replaced = live_voucher(booking)
    if replaced is not None:
        replaced.state, replaced.changed_at = "replaced", now
    voucher = issue_voucher(session, booking, key, now)
    session.flush()
    record(
        session,
        "booking.rebooked",
        booking.ref,
        now,
        booking_id=booking.id,
        old_slot_id=old_slot_id,
        slot_id=slot.id,
        voucher_id=voucher.id,
        replaced_voucher_id=replaced.id if replaced is not None else None,
        by=by,
        phone=booking.citizen.phone,
    )
