"""Send a booking's voucher again (the desk): a citizen deleted the SMS or never got it.

Nothing about the booking changes: one `voucher.resent` event, which the relay turns into the
same "voucher" SMS the booking's confirmation sent (same T-code, same link). Like that SMS it
answers what the citizen asked for, so STOP does not silence it and the daily cap of notices
does not count it (gateway.messaging.recipients).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from gateway.booking.domain import events
from gateway.booking.domain.errors import NoPhone, NotActive, NoVoucher, ResentRecently
from gateway.booking.domain.persons import has_phone
from gateway.booking.domain.states import BOOKING, VOUCHER
from gateway.booking.models import StaffAction, Voucher
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.operations.cancel import as_booked, find_locked
from gateway.booking.sql.bookings import Booked
from gateway.booking.sql.events import record
from gateway.booking.sql.guards import may

VOUCHERS, ACTIONS = Voucher.__table__, StaffAction.__table__
AGAIN_AFTER = timedelta(minutes=2)


def resend_voucher(db: Connection, ref: str, actor: str, now: datetime) -> Booked:
    """Text booking `ref`'s live voucher to its person's phone again (staff `actor`).

    Refused for a booking that is no longer confirmed (NotActive), one whose person has no
    phone (NoPhone: print the slip instead) and one without a voucher that checks in
    (NoVoucher). The guard is locked first, so an erasure never races the phone read.
    """
    booking = find_locked(db, ref)
    if not BOOKING.allows("check_in", booking.status):
        raise NotActive(status=booking.status)
    phone = booking.citizen.phone
    if not has_phone(phone):
        raise NoPhone()
    voucher_id = _checkable_voucher(db, booking.id)
    if voucher_id is None:
        raise NoVoucher()
    if _resent_since(db, ref, now - AGAIN_AFTER):
        raise ResentRecently()  # a double click or a reloaded page sends one SMS, not two
    event = events.voucher_resent(ref, booking_id=booking.id, voucher_id=voucher_id, phone=phone)
    record(db, event, now)
    record_staff_action(db, actor, "resend_voucher", ref, "", now)
    return as_booked(db, booking, booking.status)


def _checkable_voucher(db: Connection, booking_id: int) -> int | None:
    """The booking's voucher a kiosk would still check in (at most one), if any."""
    query = select(VOUCHERS.c.id).where(
        VOUCHERS.c.booking_id == booking_id, may(VOUCHERS.c.state, VOUCHER, "check_in")
    )
    return db.execute(query).scalar()


def _resent_since(db: Connection, ref: str, since: datetime) -> bool:
    """Whether staff sent this booking's voucher again after `since` (the audit trail says:
    it is indexed by subject, the events table is not)."""
    query = select(ACTIONS.c.id).where(
        ACTIONS.c.subject == ref, ACTIONS.c.action == "resend_voucher", ACTIONS.c.at > since
    )
    return db.execute(query.limit(1)).first() is not None
