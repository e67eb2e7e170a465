"""The events that name a person: by their phone, their citizen ids or their bookings.

Payloads are JSON without an index, so the search is a scan in windows of ids — each window one
bounded statement, far under statement_timeout — used by `ors citizens export` and `erase`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from gateway.booking.models import Booking, Citizen, Event

WINDOW = 20_000  # event ids per statement


@dataclass(frozen=True)
class NamedPerson:
    """Whatever an event may name a person by."""

    phones: tuple[str, ...]
    citizen_ids: tuple[int, ...]
    booking_ids: tuple[int, ...]

    def named_by(self) -> ColumnElement[bool]:
        payload = Event.payload
        clauses = [
            payload["phone"].as_string().in_(self.phones),
            payload["citizen_id"].as_integer().in_(self.citizen_ids),
        ]
        if self.booking_ids:
            clauses.append(payload["booking_id"].as_integer().in_(self.booking_ids))
        return or_(*clauses)


def person_of(session: Session, holder: Citizen) -> NamedPerson:
    """The phone's holder and their dependants, with all their bookings."""
    ids = tuple(
        session.scalars(
            select(Citizen.id)
            .where(or_(Citizen.id == holder.id, Citizen.guardian_id == holder.id))
            .order_by(Citizen.id)
        )
    )
    bookings = tuple(
        session.scalars(select(Booking.id).where(Booking.citizen_id.in_(ids)).order_by(Booking.id))
    )
    return NamedPerson((holder.phone,), ids, bookings)


def events_naming(
    session: Session, person: NamedPerson, after_id: int = 0, lock: bool = False
) -> Iterator[Sequence[Event]]:
    """The events after `after_id` that name `person`, a window at a time (rows locked when
    `lock`: the caller rewrites them)."""
    last = session.scalar(select(func.max(Event.id))) or 0
    for low in range(after_id, last, WINDOW):
        query = (
            select(Event)
            .where(Event.id > low, Event.id <= low + WINDOW, person.named_by())
            .order_by(Event.id)
        )
        yield session.scalars(query.with_for_update() if lock else query).all()
