"""Changes to an existing booking: read it locked, then move it with one conditional UPDATE.

Every use case locks the citizen row first (`citizens.lock_row`), then the booking. Each
UPDATE's WHERE names the statuses its operation may start from (`domain.states.BOOKING`), so a
booking another writer moved meanwhile is never moved twice: the rowcount says who moved it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CursorResult,
    Select,
    Update,
    bindparam,
    or_,
    select,
    update,
)

from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.states import BOOKING
from gateway.booking.models import Booking, Citizen, Department, Hospital, Slot
from gateway.booking.sql.citizens import PERSON_COLUMNS, CitizenRow
from gateway.booking.sql.executor import Executor
from gateway.booking.sql.guards import may, value

BOOKINGS, CITIZENS, SLOTS = Booking.__table__, Citizen.__table__, Slot.__table__
DEPARTMENTS, HOSPITALS = Department.__table__, Hospital.__table__


@dataclass(frozen=True)
class LockedBooking:
    """A booking row, locked until the commit, with its citizen and its slot's department."""

    id: int
    ref: str
    status: str
    slot_id: int
    starts_at: datetime
    day: date
    channel: str
    kind: str
    remote: bool
    unconfirmed: bool
    citizen: CitizenRow  # the booking's own citizen (a dependant's booking names the dependant)
    dept: DepartmentInfo


_COLUMNS = (
    BOOKINGS.c.id,
    BOOKINGS.c.ref,
    BOOKINGS.c.status,
    BOOKINGS.c.slot_id,
    SLOTS.c.starts_at,
    SLOTS.c.day,
    BOOKINGS.c.channel,
    BOOKINGS.c.kind,
    BOOKINGS.c.remote,
    BOOKINGS.c.unconfirmed,
    *PERSON_COLUMNS,
    DEPARTMENTS.c.id,
    DEPARTMENTS.c.code,
    DEPARTMENTS.c.name,
    DEPARTMENTS.c.name_gsm,
    DEPARTMENTS.c.room,
    DEPARTMENTS.c.sensitive,
    HOSPITALS.c.id,
    HOSPITALS.c.code,
    HOSPITALS.c.name,
    HOSPITALS.c.name_gsm,
    HOSPITALS.c.timezone,
)
_FROM = (
    BOOKINGS.join(CITIZENS, CITIZENS.c.id == BOOKINGS.c.citizen_id)
    .join(SLOTS, SLOTS.c.id == BOOKINGS.c.slot_id)
    .join(DEPARTMENTS, DEPARTMENTS.c.id == SLOTS.c.department_id)
    .join(HOSPITALS, HOSPITALS.c.id == DEPARTMENTS.c.hospital_id)
)


def _locked(*where: ColumnElement[bool]) -> Select[Any]:
    # Only the booking rows are locked: the catalogue rows joined in are read, never changed.
    query = select(*_COLUMNS).select_from(_FROM).where(*where).order_by(BOOKINGS.c.id)
    return query.with_for_update(of=BOOKINGS)


def _row(r: Sequence[Any]) -> LockedBooking:
    citizen = CitizenRow(*r[10:18])
    d, h = r[18:24], r[24:29]
    dept = DepartmentInfo(
        d[0], d[1], d[2], d[3], d[4], bool(d[5]), h[0], h[1], h[2], h[3], ZoneInfo(h[4])
    )
    return LockedBooking(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), bool(r[9]), citizen, dept
    )


def owner_id(db: Executor, ref: str) -> int | None:
    """The person booking `ref` is for (unlocked: the caller locks their guard next)."""
    return db.execute(select(BOOKINGS.c.citizen_id).where(BOOKINGS.c.ref == ref)).scalar()


def lock_ref(db: Executor, ref: str) -> LockedBooking | None:
    row = db.execute(_locked(BOOKINGS.c.ref == ref)).first()
    return _row(row) if row is not None else None


def lock_id(db: Executor, booking_id: int) -> LockedBooking | None:
    row = db.execute(_locked(BOOKINGS.c.id == booking_id)).first()
    return _row(row) if row is not None else None


def lock_cancellable_on(db: Executor, slot_ids: Sequence[int]) -> list[LockedBooking]:
    """The bookings of these slots a cancel may start from, in id order."""
    query = _locked(BOOKINGS.c.slot_id.in_(slot_ids), may(BOOKINGS.c.status, BOOKING, "cancel"))
    return [_row(r) for r in db.execute(query)]


def citizens_on(db: Executor, slot_ids: Sequence[int]) -> list[int]:
    """The citizens of these slots' cancellable bookings, read without a lock: whoever
    changes the bookings locks these citizens first, then reads the bookings again."""
    query = select(BOOKINGS.c.citizen_id).where(
        BOOKINGS.c.slot_id.in_(slot_ids), may(BOOKINGS.c.status, BOOKING, "cancel")
    )
    return sorted(set(db.execute(query).scalars()))


def household_of(name: str) -> Select[Any]:
    """The ids of a phone's persons: its holder (bind parameter `name`) and dependants."""
    holder: BindParameter[int] = bindparam(name)
    return select(CITIZENS.c.id).where(
        or_(CITIZENS.c.id == holder, CITIZENS.c.guardian_id == holder)
    )


def lock_open_claims(db: Executor, holder_id: int, ref: str | None = None) -> list[LockedBooking]:
    """The unconfirmed voice bookings of a phone's persons still to keep (or only `ref`), in
    id order."""
    household = household_of("holder").params(holder=holder_id)
    where = [BOOKINGS.c.citizen_id.in_(household), open_claim()]
    if ref is not None:
        where.append(BOOKINGS.c.ref == ref)
    return [_row(r) for r in db.execute(_locked(*where))]


def open_claim() -> ColumnElement[bool]:
    """Still a claim: unconfirmed, and a confirmation may start from its status."""
    confirmable = may(BOOKINGS.c.status, BOOKING, "confirm_claim")
    return BOOKINGS.c.unconfirmed.is_(True) & confirmable


def changed(db: Executor, statement: Update) -> bool:
    """Run a conditional UPDATE of one row; whether this writer changed it."""
    return cast(CursorResult[Any], db.execute(statement)).rowcount == 1


def _move(operation: str, booking_id: int, **values: Any) -> Update:
    guard = may(BOOKINGS.c.status, BOOKING, operation)
    target = value(BOOKING.target(operation))
    return (
        update(BOOKINGS).where(BOOKINGS.c.id == booking_id, guard).values(status=target, **values)
    )


def cancel(
    db: Executor,
    booking_id: int,
    by: str,
    reason: str,
    now: datetime,
    rebooked_to: str | None = None,
) -> bool:
    """Cancel the booking; False when it was no longer confirmed."""
    changes = {"cancelled_at": now, "cancelled_by": by, "cancel_reason": reason[:200]}
    statement = _move("cancel", booking_id, rebooked_to=rebooked_to, **changes)
    return changed(db, statement)


def move(db: Executor, booking_id: int, slot_id: int, department_id: int, day: date) -> bool:
    """Move the booking to a place of another slot, taken from the remote pool."""
    statement = _move(
        "move", booking_id, slot_id=slot_id, department_id=department_id, day=day, remote=True
    )
    return changed(db, statement)


def no_show(db: Executor, booking_id: int, now: datetime) -> bool:
    """Mark the booking a no-show; False when it was checked in, cancelled or marked meanwhile."""
    return changed(db, _move("no_show", booking_id, no_show_at=now))


def confirm_claim(db: Executor, booking_id: int) -> bool:
    """The phone's owner keeps the voice booking: it counts as theirs from now on."""
    statement = _move("confirm_claim", booking_id, unconfirmed=False)
    return changed(db, statement.where(BOOKINGS.c.unconfirmed.is_(True)))


def undo_no_show(db: Executor, booking_id: int) -> bool:
    """The no-show was a mistake and the citizen is expected again (the window is open).
    `no_show_at` stays: it says when the mistaken mark was made."""
    return changed(db, _move("undo_no_show", booking_id))


def excuse_no_show(db: Executor, booking_id: int, by: str, reason: str, now: datetime) -> bool:
    """The no-show was a mistake, found after the window: the booking ends cancelled by `by`
    (staff), which counts as no strike."""
    changes = {"cancelled_at": now, "cancelled_by": by, "cancel_reason": reason[:200]}
    return changed(db, _move("excuse_no_show", booking_id, **changes))
