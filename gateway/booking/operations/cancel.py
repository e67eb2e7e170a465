"""Cancel a booking: citizens from their phone before the deadline, staff at any time.

`void` is the cancellation itself, shared by every way a booking ends early (a cancel, a
rebook to another hospital, a closed session, an unconfirmed voice booking released): the
booking row moves, its voucher stops checking in, a remote place goes back, one event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from gateway.booking.domain import events
from gateway.booking.domain.errors import NotActive, NotFound, NotOwner
from gateway.booking.domain.persons import named
from gateway.booking.domain.rules import check_cancellable
from gateway.booking.domain.states import BOOKING
from gateway.booking.domain.states import CITIZEN as CITIZEN  # who cancels: callers name them
from gateway.booking.domain.states import STAFF as STAFF  # as cancel.CITIZEN, cancel.STAFF
from gateway.booking.operations import blocks
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.sql import capacity, persons, transitions, vouchers
from gateway.booking.sql.bookings import Booked
from gateway.booking.sql.events import record
from gateway.booking.sql.transitions import LockedBooking
from gateway.settings import BookingSettings


def find_locked(db: Connection, ref: str) -> LockedBooking:
    """The booking `ref`, locked after its person's guard (the lock order of every use case):
    the phone's holder, or the person's own row. By id, not by phone: an erased household's
    persons no longer share one."""
    owner = transitions.owner_id(db, ref)
    if owner is None or not persons.lock_guard(db, owner):
        raise NotFound(what="booking")
    booking = transitions.lock_ref(db, ref)
    if booking is None:
        raise NotFound(what="booking")
    return booking


def check_active(booking: LockedBooking) -> None:
    """Refuse a booking a cancel cannot start from (cancelled, checked in, …)."""
    if not BOOKING.allows("cancel", booking.status):
        raise NotActive(status=booking.status)


def cancel(
    db: Connection,
    booking_settings: BookingSettings,
    ref: str,
    by: str,
    reason: str,
    now: datetime,
    phone: str | None = None,
) -> Booked:
    """Cancel a confirmed booking; citizens only from their phone and before the deadline.

    A citizen's cancellation counts toward the cancellation block of the booking's hospital.
    """
    booking = find_locked(db, ref)
    if phone is not None and booking.citizen.phone != phone:
        raise NotOwner()
    check_active(booking)
    rules = booking_settings.rules_for(booking.dept.hospital_code)
    if by == CITIZEN:
        # Hospital-local, so the refusal's deadline reads as the hospital's clock time.
        check_cancellable(booking.starts_at.astimezone(booking.dept.timezone), rules, now)
    void(db, booking, by, reason, now)
    if by == CITIZEN:
        policy = rules.cancel_block
        if not blocks.apply_policy(db, booking.citizen.id, policy, "cancellation", now):
            tz = booking.dept.timezone
            blocks.warn_if_near(db, booking.citizen.id, policy, "cancellation", now, tz)
    return as_booked(db, booking, str(BOOKING.target("cancel")))


def cancel_audited(
    db: Connection,
    booking_settings: BookingSettings,
    ref: str,
    by: str,
    reason: str,
    now: datetime,
    phone: str | None = None,
    actor: str | None = None,
) -> Booked:
    """`cancel`, and a staff cancellation adds `actor` to the audit trail."""
    booked = cancel(db, booking_settings, ref, by, reason, now, phone)
    if by == STAFF:
        record_staff_action(db, actor, "cancel", ref, reason, now)
    return booked


def void(
    db: Connection,
    booking: LockedBooking,
    by: str,
    reason: str,
    now: datetime,
    rebooked_to: str | None = None,
    because: str | None = None,
) -> None:
    """Cancel a locked, confirmed booking: voucher void, remote place back, one event.

    `rebooked_to` names the booking that replaces it (a rebook to another hospital);
    `because` a system cause the citizen's notice explains (e.g. "unconfirmed"). Raise
    NotActive, before giving anything back, if the guarded UPDATE finds it no longer confirmed.
    """
    if not transitions.cancel(db, booking.id, by, reason, now, rebooked_to):
        raise NotActive(status=booking.status)
    vouchers.cancel_live(db, booking.id, now)
    if booking.remote:
        capacity.give_back(db, booking.slot_id)
    event = events.booking_cancelled(
        booking.ref,
        booking_id=booking.id,
        by=by,
        reason=reason,
        phone=booking.citizen.phone,
        rebooked_to=rebooked_to,
        because=because,
    )
    record(db, event, now)


def as_booked(db: Connection, booking: LockedBooking, status: str) -> Booked:
    """The booking as the operation left it (now `status`), for the caller's confirmation."""
    voucher = vouchers.current(db, booking.id)
    b = booking
    return Booked(
        b.id, b.ref, False, b.slot_id, b.starts_at, status, voucher, b.dept, named(b.citizen)
    )
