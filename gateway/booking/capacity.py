"""Remote capacity: claimed and given back by single conditional UPDATEs, never read-then-write."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.booking.models import Slot


def claim(session: Session, slot_id: int) -> bool:
    """Take one remote place of the slot; False when none is left.

    The WHERE clause makes the check and the increment one atomic statement: concurrent
    claimers queue on the row lock and re-evaluate the condition, so capacity cannot be passed.
    """
    result = session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.remote_taken < Slot.remote_capacity)
        .values(remote_taken=Slot.remote_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def give_back(session: Session, slot_id: int) -> None:
    """Return one remote place (a released hold or a cancelled remote booking)."""
    session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.remote_taken > 0)
        .values(remote_taken=Slot.remote_taken - 1)
        .execution_options(synchronize_session=False)
    )
