"""What a channel notice reads: whether it was written already (once per subject), its slot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, exists, select

from gateway.booking.domain.events import NewEvent
from gateway.booking.models import Event, Slot
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor

EVENTS, SLOTS = Event.__table__, Slot.__table__
_WRITTEN = DriverStatement(
    select(
        exists().where(
            EVENTS.c.type == bindparam("type"), EVENTS.c.subject_id == bindparam("subject")
        )
    )
)


def written(db: Executor, event: NewEvent) -> bool:
    """True when an event of the same type about the same subject is in the outbox already."""
    params = {"type": event.type, "subject": event.subject_id}
    return bool(_WRITTEN.run(db, params).scalar())


_SLOT = DriverStatement(
    select(SLOTS.c.starts_at, SLOTS.c.department_id).where(SLOTS.c.id == bindparam("slot_id"))
)


def slot_of(db: Executor, slot_id: int) -> tuple[datetime, int]:
    """A slot's start and department, for a notice about it."""
    starts_at, department_id = _SLOT.run(db, {"slot_id": slot_id}).one()
    return starts_at, int(department_id)
