"""Close a department's session for a day (the doctor is ill): cancel, and book no more.

One unit of work: the citizens of the day's bookings are locked first (in id order), then the
holds on those slots, then the slots, as every use case takes them. Every confirmed booking is
cancelled by staff with the reason (one `booking.cancelled` each: the citizen's notice), holds
on those slots are released, and remote capacity is lowered to what is still taken (nothing),
so no place is free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from gateway.booking.domain import events
from gateway.booking.domain.states import HoldState
from gateway.booking.operations.cancel import STAFF, void
from gateway.booking.sql import capacity, citizens, holds, transitions
from gateway.booking.sql.events import record


@dataclass(frozen=True)
class CloseReport:
    slots: int
    cancelled: int
    holds_released: int


def close_session(
    db: Connection, department_id: int, day: date, reason: str, now: datetime
) -> CloseReport:
    """Close every slot of the department on `day` and cancel its confirmed bookings."""
    slot_ids = capacity.slots_of(db, department_id, day)
    citizens.lock_ids(db, transitions.citizens_on(db, slot_ids))
    held = holds.lock_on(db, slot_ids)
    capacity.lock_in_order(db, *slot_ids)
    capacity.close(db, slot_ids, now)
    for hold in held:
        holds.drop_hold(db, hold, now, HoldState.RELEASED)
    # Read again under the locks: a booking confirmed since the first read is cancelled too.
    bookings = transitions.lock_cancellable_on(db, slot_ids)
    for booking in bookings:
        void(db, booking, STAFF, reason, now)
    capacity.shut(db, slot_ids)
    event = events.session_closed(department_id, day, reason=reason, cancelled=len(bookings))
    record(db, event, now)
    return CloseReport(slots=len(slot_ids), cancelled=len(bookings), holds_released=len(held))
