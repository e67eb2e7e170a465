"""Close a department's session for a day (the doctor is ill): cancel, and book no more.

One unit of work: the citizens of the day's bookings are locked first (in id order), then the
holds on those slots, then the slots, as every use case takes them. Every confirmed booking is cancelled by staff
with the reason (one `booking.cancelled` each: the citizen's notice), holds on those slots are
released, and remote capacity is lowered to what is still taken (nothing), so no place is free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.booking.models import Booking, Citizen, Department, Hold, Slot
from gateway.booking.operations.book import void
from gateway.booking.sql import holds
from gateway.booking.sql.events import record


@dataclass(frozen=True)
class CloseReport:
    slots: int
    cancelled: int
    holds_released: int


def close_session(
    session: Session, department: Department, day: date, reason: str, now: datetime
) -> CloseReport:
    """Close every slot of the department on `day` and cancel its confirmed bookings."""
    slot_ids = list(
        session.scalars(select(Slot.id).where(Slot.department_id == department.id, Slot.day == day))
    )
    confirmed = select(Booking).where(Booking.slot_id.in_(slot_ids), Booking.status == "confirmed")
    citizen_ids = sorted({b.citizen_id for b in session.scalars(confirmed)})
    session.execute(
        select(Citizen.id).where(Citizen.id.in_(citizen_ids)).order_by(Citizen.id).with_for_update()
    ).all()
    held = [
        holds.HoldRow(*row)
        for row in session.execute(
            select(*holds.COLUMNS)
            .where(Hold.slot_id.in_(slot_ids))
            .order_by(Hold.id)
            .with_for_update()
        )
    ]
    slots = session.scalars(
        select(Slot).where(Slot.id.in_(slot_ids)).order_by(Slot.id).with_for_update()
    ).all()
    for slot in slots:
        slot.closed_at = slot.closed_at or now
    for hold in held:
        holds.drop_hold(session, hold, now, "hold.released")
    # Read again under the locks: a booking confirmed since the first read is cancelled too.
    bookings = session.scalars(confirmed.order_by(Booking.id).with_for_update()).all()
    for booking in bookings:
        void(session, booking, "staff", reason, now)
    session.flush()
    session.execute(
        update(Slot)
        .where(Slot.id.in_(slot_ids))
        .values(remote_capacity=Slot.remote_taken)
        .execution_options(synchronize_session=False)
    )
    record(
        session,
        "session.closed",
        f"{department.id}:{day.isoformat()}",
        now,
        department_id=department.id,
        day=day.isoformat(),
        reason=reason[:200],
        cancelled=len(bookings),
    )
    return CloseReport(slots=len(slots), cancelled=len(bookings), holds_released=len(held))
