"""Remote capacity: claimed and given back by single conditional UPDATEs, never read-then-write."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from gateway.booking.models import Slot
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor

SLOTS = Slot.__table__
# Built once: the hot paths run them on every hold and booking.
_CLAIM = DriverStatement(
    update(SLOTS)
    .where(SLOTS.c.id == bindparam("slot_id"), SLOTS.c.remote_taken < SLOTS.c.remote_capacity)
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
