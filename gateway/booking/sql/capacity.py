"""Remote capacity: claimed and given back by single conditional UPDATEs, never read-then-write.

The desk's walk-ins share the slot's places (sql.walk_ins): a remote claim also needs the
slot's capacity to hold one more beside them, which matters once unused remote places return
to walk-in and a walk-in may take one the sweep has not yet taken off the remote share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, func, select, update

from gateway.booking.models import Department, Slot
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor

SLOTS = Slot.__table__
# Built once: the hot paths run them on every hold and booking.
_CLAIM = DriverStatement(
    update(SLOTS)
    .where(
        SLOTS.c.id == bindparam("slot_id"),
        SLOTS.c.remote_taken < SLOTS.c.remote_capacity,
        SLOTS.c.remote_taken + SLOTS.c.walk_in_taken < SLOTS.c.capacity,
    )
    .values(remote_taken=SLOTS.c.remote_taken + 1)
)
_GIVE_BACK = DriverStatement(
    update(SLOTS)
    .where(SLOTS.c.id == bindparam("slot_id"), SLOTS.c.remote_taken > 0)
    .values(remote_taken=SLOTS.c.remote_taken - 1)
)


def claim(db: Executor, slot_id: int) -> bool:
    """Take one remote place of the slot; False when none is left.

    The WHERE clause makes the check and the increment one atomic statement: concurrent
    claimers queue on the row lock and re-evaluate the condition, so capacity cannot be passed.
    """
    return _CLAIM.run(db, {"slot_id": slot_id}).rowcount == 1


def give_back(db: Executor, slot_id: int) -> None:
    """Return one remote place (a released hold or a cancelled remote booking)."""
    _GIVE_BACK.run(db, {"slot_id": slot_id})


def lock_in_order(db: Executor, *slot_ids: int) -> None:
    """Lock slot rows in id order, so two moves between the same slots cannot deadlock."""
    db.execute(
        select(SLOTS.c.id).where(SLOTS.c.id.in_(slot_ids)).order_by(SLOTS.c.id).with_for_update()
    ).all()


def close(db: Executor, slot_ids: Sequence[int], now: datetime) -> None:
    """Staff closed these (locked) slots: slot generation leaves them closed from now on."""
    db.execute(
        update(SLOTS)
        .where(SLOTS.c.id.in_(slot_ids))
        .values(closed_at=func.coalesce(SLOTS.c.closed_at, now))
    )


def shut(db: Executor, slot_ids: Sequence[int]) -> None:
    """No remote place left free: capacity lowered to what is still taken."""
    db.execute(
        update(SLOTS).where(SLOTS.c.id.in_(slot_ids)).values(remote_capacity=SLOTS.c.remote_taken)
    )


@dataclass(frozen=True)
class Unused:
    """A slot about to start with remote places nobody took."""

    id: int
    starts_at: datetime
    remote_capacity: int
    remote_taken: int


def lock_unused(db: Executor, hospital_id: int, after: datetime, until: datetime) -> list[Unused]:
    """The hospital's slots starting in (after, until] with free remote places, locked (SKIP
    LOCKED: a slot busy with a booking waits for the next sweep)."""
    departments = Department.__table__
    query = (
        select(SLOTS.c.id, SLOTS.c.starts_at, SLOTS.c.remote_capacity, SLOTS.c.remote_taken)
        .join(departments, departments.c.id == SLOTS.c.department_id)
        .where(
            departments.c.hospital_id == hospital_id,
            SLOTS.c.starts_at > after,
            SLOTS.c.starts_at <= until,
            SLOTS.c.remote_taken < SLOTS.c.remote_capacity,
        )
        .order_by(SLOTS.c.id)
        .with_for_update(of=SLOTS, skip_locked=True)
    )
    return [Unused(*row) for row in db.execute(query)]


def return_to_walkin(db: Executor, slot: Unused) -> bool:
    """Give the slot's unused remote places to walk-in; False if it changed since it was read."""
    statement = (
        update(SLOTS)
        .where(
            SLOTS.c.id == slot.id,
            SLOTS.c.remote_capacity == slot.remote_capacity,
            SLOTS.c.remote_taken == slot.remote_taken,
        )
        .values(remote_capacity=SLOTS.c.remote_taken)
    )
    return cast(CursorResult[Any], db.execute(statement)).rowcount == 1


def slots_of(db: Executor, department_id: int, day: date) -> list[int]:
    """The department's slots on `day`, in id order."""
    query = select(SLOTS.c.id).where(SLOTS.c.department_id == department_id, SLOTS.c.day == day)
    return list(db.execute(query.order_by(SLOTS.c.id)).scalars())
