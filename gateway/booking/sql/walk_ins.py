"""Walk-in places, claimed by one conditional UPDATE (never read-then-write), and walk-in rows.

A slot's walk-in places are the ones its remote share leaves (capacity - remote_capacity). From
`walkin_return_minutes` before the slot starts, the remote places nobody took are walk-in places
too (capacity - remote_taken, live holds counted as taken), whether or not the sweep has lowered
`remote_capacity` to match yet: the claim decides by the slot's start, not by the sweep. A remote
claim checks the same sum from its side (sql.capacity), and the table's CHECK
(walk_in_taken + remote_taken <= capacity) is the last guard. A walk-in is checked in at
once, and nothing moves or cancels a checked-in booking, so its place is never given back.

Plain Core on the Connection, not the driver's fast path: walk-ins come at the pace of a desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, case, insert, select, update

from gateway.booking.models import Booking, Slot
from gateway.booking.sql.bookings import CONFIRMED, Place, new_booking_ref
from gateway.booking.sql.executor import Executor

SLOTS, BOOKINGS = Slot.__table__, Booking.__table__


def _remote_kept(returns_until: datetime) -> Any:
    """The places the remote share keeps from walk-ins: all of them, or once they returned to
    walk-in (the slot starts by `returns_until`) only the taken ones."""
    returned = SLOTS.c.starts_at <= returns_until
    return case((returned, SLOTS.c.remote_taken), else_=SLOTS.c.remote_capacity)


def claim(db: Executor, slot_id: int, returns_until: datetime) -> bool:
    """Take one walk-in place of the (open) slot; False when none is left.

    `returns_until`: slots starting by then have their unused remote places back for walk-in
    (now + the hospital's `walkin_return_minutes`). The WHERE clause makes the check and the
    increment one atomic statement, as the remote claim does.
    """
    statement = (
        update(SLOTS)
        .where(
            SLOTS.c.id == slot_id,
            SLOTS.c.closed_at.is_(None),
            SLOTS.c.walk_in_taken + _remote_kept(returns_until) < SLOTS.c.capacity,
        )
        .values(walk_in_taken=SLOTS.c.walk_in_taken + 1)
    )
    return cast(CursorResult[Any], db.execute(statement)).rowcount == 1


@dataclass(frozen=True)
class OpenSlot:
    """A slot of the day a walk-in may still be seen in."""

    id: int
    starts_at: datetime


def open_slots(db: Executor, department_id: int, day: date, now: datetime) -> list[OpenSlot]:
    """The department's open slots of `day` that have not ended at `now`, earliest first: the
    one running now, then the next ones."""
    query = (
        select(SLOTS.c.id, SLOTS.c.starts_at)
        .where(
            SLOTS.c.department_id == department_id,
            SLOTS.c.day == day,
            SLOTS.c.ends_at > now,
            SLOTS.c.closed_at.is_(None),
        )
        .order_by(SLOTS.c.starts_at, SLOTS.c.id)
    )
    return [OpenSlot(*row) for row in db.execute(query)]


WALK_IN_KIND, DESK_CHANNEL = "walk_in", "desk"


def insert_walk_in(db: Executor, citizen_id: int, place: Place, now: datetime) -> str:
    """Add a walk-in's booking on a walk-in place already taken for it; returns its reference.

    Not `sql.bookings.insert_booking`: a walk-in holds no remote place (`remote` false, so no
    remote place is ever given back for it), gets no voucher (the queue ticket is all they
    carry) and no `booking.confirmed` (there is nothing to text); its check-in, which follows
    in the same transaction, writes its one event.
    """
    ref = new_booking_ref()
    db.execute(
        insert(BOOKINGS).values(
            ref=ref,
            citizen_id=citizen_id,
            slot_id=place.slot_id,
            department_id=place.department_id,
            day=place.day,
            status=str(CONFIRMED),
            channel=DESK_CHANNEL,
            kind=WALK_IN_KIND,
            remote=False,
            created_at=now,
            confirmed_at=now,
            unconfirmed=False,
        )
    )
    return ref
