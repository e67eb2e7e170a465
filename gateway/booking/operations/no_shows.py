"""No-shows at the desk: mark one as the sweep does, and undo a mistaken one.

A mistaken no-show must not block a citizen. Undoing one moves the booking back to where it
would be without the mark, and lifts the block that mark caused when the citizen's other
no-shows alone would not have caused it (`_caused_block`). Every step keeps the house order:
the person's guard locked first, then the booking, each change one guarded UPDATE, one event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from gateway.booking.domain import events
from gateway.booking.domain.errors import NotActive, NotNoShow, NotStarted
from gateway.booking.domain.rules import checkin_window
from gateway.booking.domain.states import BOOKING, STAFF
from gateway.booking.models import Department, Hospital, Slot
from gateway.booking.operations import blocks
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.operations.cancel import as_booked, find_locked
from gateway.booking.sql import citizens, transitions, vouchers
from gateway.booking.sql.bookings import Booked
from gateway.booking.sql.events import record
from gateway.booking.sql.transitions import LockedBooking
from gateway.settings import BlockPolicy, BookingSettings

BOOKINGS = blocks.BOOKINGS
DEPARTMENTS, HOSPITALS, SLOTS = Department.__table__, Hospital.__table__, Slot.__table__


def record_no_show(
    db: Connection, booking_id: int, ref: str, citizen_id: int, phone: str, policy: BlockPolicy,
    now: datetime,
) -> bool | None:  # fmt: skip
    """Mark a confirmed booking of a locked citizen a no-show: voucher expired, one event, the
    block policy applied. None when the guarded UPDATE finds it no longer confirmed; else
    whether the citizen is now blocked by it. The sweep and the desk share this."""
    if not transitions.no_show(db, booking_id, now):
        return None
    vouchers.expire_live(db, booking_id, now)
    event = events.booking_no_show(ref, booking_id=booking_id, citizen_id=citizen_id, phone=phone)
    record(db, event, now)
    return blocks.apply_policy(db, citizen_id, policy, "no_show", now)


def mark(
    db: Connection, booking_settings: BookingSettings, ref: str, actor: str, reason: str,
    now: datetime,
) -> Booked:  # fmt: skip
    """Mark booking `ref` a no-show now (staff `actor`): only a confirmed booking whose slot
    has started (NotStarted before; NotActive once checked in, cancelled or marked)."""
    booking = find_locked(db, ref)
    if not BOOKING.allows("no_show", booking.status):
        raise NotActive(status=booking.status)
    if now < booking.starts_at:
        raise NotStarted(starts_at=booking.starts_at.astimezone(booking.dept.timezone))
    policy = booking_settings.rules_for(booking.dept.hospital_code).no_show_block
    citizen = booking.citizen
    if record_no_show(db, booking.id, booking.ref, citizen.id, citizen.phone, policy, now) is None:
        raise NotActive(status=booking.status)  # the lock makes this a bug, not a race
    record_staff_action(db, actor, "mark_no_show", ref, reason, now)
    return as_booked(db, booking, str(BOOKING.target("no_show")))


def undo(
    db: Connection, booking_settings: BookingSettings, ref: str, actor: str, reason: str,
    now: datetime,
) -> Booked:  # fmt: skip
    """Undo the no-show of booking `ref` (staff `actor`, `reason`); NotNoShow unless it is one.

    While the slot's check-in window is still open the booking is confirmed again and its
    voucher checks in again: the citizen may still come, and if they never do the sweep marks
    them afresh when the window closes. After the window the booking ends cancelled by staff,
    with the reason: the day is over, it holds no place and counts as no strike, and it no
    longer counts among the phone's live bookings as a confirmed one would for ever. Either
    way the block this no-show caused is lifted (`_caused_block`), with its own event.
    """
    booking = find_locked(db, ref)
    if not BOOKING.allows("undo_no_show", booking.status):
        raise NotNoShow(status=booking.status)
    rules = booking_settings.rules_for(booking.dept.hospital_code)
    marked_at = _no_show_at(db, booking.id)
    # A session staff closed since holds no place: the booking cannot come back to life there.
    if now <= checkin_window(booking.starts_at, rules)[1] and not _session_closed(db, booking.id):
        moved = transitions.undo_no_show(db, booking.id)
        vouchers.reinstate_expired(db, booking.id, now)
        operation = "undo_no_show"
    else:
        moved = transitions.excuse_no_show(db, booking.id, STAFF, reason, now)
        operation = "excuse_no_show"
    if not moved:
        raise NotNoShow(status=booking.status)  # the lock makes this a bug, not a race
    lifted = _caused_block(db, booking, marked_at, booking_settings, now)
    status = str(BOOKING.target(operation))
    event = events.booking_no_show_undone(
        booking.ref, booking_id=booking.id, citizen_id=booking.citizen.id,
        phone=booking.citizen.phone, status=status, reason=reason, lifted_block=lifted,
    )  # fmt: skip
    record(db, event, now)
    if lifted:
        blocks.lift(db, booking.citizen.id, reason, now)
    record_staff_action(db, actor, "undo_no_show", ref, reason, now)
    return as_booked(db, booking, status)


def _no_show_at(db: Connection, booking_id: int) -> datetime | None:
    return db.execute(select(BOOKINGS.c.no_show_at).where(BOOKINGS.c.id == booking_id)).scalar()


def _caused_block(
    db: Connection, booking: LockedBooking, marked_at: datetime | None,
    booking_settings: BookingSettings, now: datetime,
) -> bool:  # fmt: skip
    """Whether the (locked) citizen's running block stands on this undone no-show.

    A no-show block began at the instant a no-show was marked (`strikes_since`), under the
    policy of the hospital of that booking (a block is the phone's, whichever hospital set
    it). The block goes only when the strikes that policy counted, this undone no-show left
    out, fall short of its count: an older no-show, one a previous block already wiped, one
    marked at the same instant but not counted, or another hospital's strikes that suffice
    on their own keep it.
    """
    standing = citizens.standing(db, booking.citizen.id)
    since, until = standing.strikes_since, standing.blocked_until
    if marked_at is None or booking.unconfirmed or since is None or until is None:
        return False
    if until <= now or marked_at > since:
        return False
    trigger = _hospital_marked_at(db, booking.citizen.id, since)
    if trigger is None:
        return False  # a cancellation block
    policy = booking_settings.rules_for(trigger).no_show_block
    window_start = since - timedelta(days=policy.window_days)
    if not policy.enabled or marked_at < window_start:
        return False  # this no-show was not among the strikes the block counted
    _, is_strike = blocks.STRIKES["no_show"]
    others = db.execute(
        select(func.count()).where(
            BOOKINGS.c.citizen_id == booking.citizen.id,
            BOOKINGS.c.id != booking.id,
            is_strike,
            BOOKINGS.c.no_show_at >= window_start,
            BOOKINGS.c.no_show_at <= since,
        )
    ).scalar_one()
    return int(others) < policy.count


def _hospital_marked_at(db: Connection, citizen_id: int, at: datetime) -> str | None:
    """The hospital of a booking of the citizen's marked a no-show at `at`, if any: a block
    starting then was a no-show block set under that hospital's policy."""
    found = db.execute(
        select(HOSPITALS.c.code)
        .select_from(
            BOOKINGS.join(DEPARTMENTS, DEPARTMENTS.c.id == BOOKINGS.c.department_id).join(
                HOSPITALS, HOSPITALS.c.id == DEPARTMENTS.c.hospital_id
            )
        )
        .where(BOOKINGS.c.citizen_id == citizen_id, BOOKINGS.c.no_show_at == at)
        .limit(1)
    ).scalar()
    return None if found is None else str(found)


def _session_closed(db: Connection, booking_id: int) -> bool:
    closed = db.execute(
        select(SLOTS.c.closed_at)
        .select_from(BOOKINGS.join(SLOTS, SLOTS.c.id == BOOKINGS.c.slot_id))
        .where(BOOKINGS.c.id == booking_id)
    ).scalar()
    return closed is not None
