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
from gateway.booking.operations import blocks
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.operations.cancel import as_booked, find_locked
from gateway.booking.sql import citizens, transitions, vouchers
from gateway.booking.sql.bookings import Booked
from gateway.booking.sql.events import record
from gateway.booking.sql.transitions import LockedBooking
from gateway.settings import BlockPolicy, BookingSettings

BOOKINGS = blocks.BOOKINGS


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
    if now <= checkin_window(booking.starts_at, rules)[1]:
        moved = transitions.undo_no_show(db, booking.id)
        vouchers.reinstate_expired(db, booking.id, now)
        operation = "undo_no_show"
    else:
        moved = transitions.excuse_no_show(db, booking.id, STAFF, reason, now)
        operation = "excuse_no_show"
    if not moved:
        raise NotNoShow(status=booking.status)  # the lock makes this a bug, not a race
    lifted = _caused_block(db, booking, marked_at, rules.no_show_block, now)
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
    db: Connection, booking: LockedBooking, marked_at: datetime | None, policy: BlockPolicy,
    now: datetime,
) -> bool:  # fmt: skip
    """Whether the (locked) citizen's running block stands on this undone no-show.

    A block wipes the slate at the instant it starts (`strikes_since`), so a no-show block
    began at the instant a no-show was marked, and counted the latest `policy.count` strikes
    up to then (the policy blocks as soon as they reach the count). The undone no-show caused
    it when it is one of those: fewer than `count` strikes still stand between its mark and
    the block. Without it the others fall one short, so the block goes. An older no-show, one
    a previous block already wiped, or an unconfirmed voice booking (never a strike) did not.
    """
    standing = citizens.standing(db, booking.citizen.id)
    since, until = standing.strikes_since, standing.blocked_until
    if marked_at is None or booking.unconfirmed or since is None or until is None:
        return False
    if until <= now or marked_at > since:
        return False
    if marked_at < since - timedelta(days=policy.window_days):
        return False  # outside the window the block counted
    if not _no_show_at_instant(db, booking.citizen.id, since):
        return False  # a cancellation block
    _, is_strike = blocks.STRIKES["no_show"]
    later = db.execute(
        select(func.count()).where(
            BOOKINGS.c.citizen_id == booking.citizen.id,
            is_strike,
            BOOKINGS.c.no_show_at > marked_at,
            BOOKINGS.c.no_show_at <= since,
        )
    ).scalar_one()
    return not policy.enabled or int(later) < policy.count


def _no_show_at_instant(db: Connection, citizen_id: int, at: datetime) -> bool:
    """Whether one of the citizen's bookings was marked a no-show at `at` (an undone one
    keeps its mark's time), i.e. a block starting then was a no-show block."""
    found = db.execute(
        select(BOOKINGS.c.id)
        .where(BOOKINGS.c.citizen_id == citizen_id, BOOKINGS.c.no_show_at == at)
        .limit(1)
    ).first()
    return found is not None
