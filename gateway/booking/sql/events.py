"""Write the outbox's events (built by `gateway.booking.domain.events`) in the caller's transaction.

`record(db, event, now)` writes one `NewEvent` as one Core insert, with no ORM flush to pay.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from gateway.booking.domain.events import EVENT_TYPES, EVENTS_BY_OPERATION, NewEvent
from gateway.booking.models import Event
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor

__all__ = ["EVENTS_BY_OPERATION", "EVENT_TYPES", "NewEvent", "record"]

_INSERT = DriverStatement(insert(Event.__table__))


def record(db: Executor, event: NewEvent, now: datetime) -> None:
    """Write one outbox row for `event`, created at `now`."""
    if event.type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event.type!r}: add it to EVENTS_BY_OPERATION")
    row = {"type": event.type, "subject_id": event.subject_id, "payload": event.payload}
    _INSERT.run(db, {**row, "created_at": now})
