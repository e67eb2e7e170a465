"""Citizens: created on first contact, locked first in every use case, per-person limits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ScalarSelect,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from gateway.booking.domain.persons import Person, check_counts, named
from gateway.booking.domain.states import ACTIVE_BOOKING_STATUSES
from gateway.booking.models import Booking, Citizen
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor, dialect_name
from gateway.booking.sql.guards import in_states
from gateway.settings import BookingRules

CITIZENS = Citizen.__table__


@dataclass(frozen=True)
class CitizenRow:
    """A person as the write path reads them: a phone's holder (`lock_row`), or a dependant."""

    id: int
    phone: str
    name: str | None
    national_id_hash: str | None
    blocked_until: datetime | None
    birth_year: int | None = None
    guardian_id: int | None = None
    persons_added: int = 0  # on a holder: dependants ever added (0: no household rules)


# What every read of a person for the booking rules selects, in CitizenRow's order.
PERSON_COLUMNS = (
    CITIZENS.c.id,
    CITIZENS.c.phone,
    CITIZENS.c.name,
    CITIZENS.c.national_id_hash,
    CITIZENS.c.blocked_until,
    CITIZENS.c.birth_year,
    CITIZENS.c.guardian_id,
    CITIZENS.c.persons_added,
)


def _upsert(dialect: str) -> ClauseElement:
    """INSERT … ON CONFLICT DO UPDATE … RETURNING: create, lock and read in one statement.

    The no-op update is what takes the row lock on an existing citizen (PostgreSQL); SQLite
    writers hold the database lock from BEGIN IMMEDIATE anyway. It also records consent at
    the first booking (`consent`: the booking's instant, else NULL), in the same statement so
    the hot path pays no extra round trip; COALESCE keeps the first one for ever.
    """
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(CITIZENS)
    statement: ClauseElement = (
        insert.values(
            phone=bindparam("phone"),
            created_at=bindparam("now"),
            reminders_opt_out=False,
            consent_at=bindparam("consent", type_=CITIZENS.c.consent_at.type),
        )
        .on_conflict_do_update(
            index_elements=[CITIZENS.c.phone],
            index_where=CITIZENS.c.guardian_id.is_(None),
            set_={
                "phone": insert.excluded.phone,
                "consent_at": func.coalesce(CITIZENS.c.consent_at, insert.excluded.consent_at),
            },
        )
        .returning(*PERSON_COLUMNS)
    )
    return statement


_UPSERTS = {name: DriverStatement(_upsert(name)) for name in ("postgresql", "sqlite")}


def lock_row(db: Executor, phone: str, now: datetime, consent: bool = False) -> CitizenRow:
    """The phone's holder, created on first contact, with the row locked until the commit.

    The citizen row is always locked before any slot, so two requests of one person serialise
    here and the per-person rules see each other's bookings. `consent`: the caller is about
    to book for themselves, so `consent_at` is set to `now` unless it is set already (a
    refused booking rolls it back with everything else).
    """
    params = {"phone": phone, "now": now, "consent": now if consent else None}
    row = _UPSERTS[dialect_name(db)].run(db, params).one()
    return CitizenRow(*row)


def find_citizen(session: Session, phone: str) -> Citizen | None:
    return session.scalars(
        select(Citizen).where(Citizen.phone == phone, Citizen.guardian_id.is_(None))
    ).one_or_none()


def _active_on(
    citizen_id: int | BindParameter[int],
    day: date | ColumnElement[date],
    exclude_booking: int | None = None,
) -> list[ColumnElement[bool]]:
    """The citizen's active, confirmed-by-the-owner bookings on `day`: what the per-person
    limits count."""
    # OR of equalities rather than IN: runs on the driver (gateway.booking.sql.driver)
    active = in_states(Booking.status, ACTIVE_BOOKING_STATUSES)
    # An unconfirmed voice booking is a claim on the phone, not yet the person's (claims.py).
    where = [Booking.citizen_id == citizen_id, Booking.day == day, active, ~Booking.unconfirmed]
    if exclude_booking is not None:
        where.append(Booking.id != exclude_booking)
    return where


def booked_that_day(
    citizen_id: BindParameter[int], day: ColumnElement[date], department_id: ColumnElement[int]
) -> tuple[ScalarSelect[int], ScalarSelect[int]]:
    """Counts for a statement over `slots`: the citizen's bookings on the slot's day, and in
    its department that day (scalar subqueries correlated with the slot row)."""
    on_day = select(func.count()).select_from(Booking).where(*_active_on(citizen_id, day))
    in_department = on_day.where(Booking.department_id == department_id)
    return on_day.scalar_subquery(), in_department.scalar_subquery()


def check_person_limits(
    db: Executor,
    citizen: Person,
    day: date,
    department_id: int,
    rules: BookingRules,
    exclude_booking: int | None = None,
) -> None:
    """Raise when one more booking on `day` would pass the per-day or per-department limit."""
    counts = select(
        func.count(), func.count().filter(Booking.department_id == department_id)
    ).where(*_active_on(citizen.id, day, exclude_booking))
    on_day, in_department = db.execute(counts).one()
    check_counts(on_day, in_department, rules, named(citizen))


# --- what the write path changes on a citizen row ----------------------------------------------


@dataclass(frozen=True)
class Standing:
    """What the block policies read of a citizen (gateway.booking.operations.blocks)."""

    id: int
    phone: str
    blocked_until: datetime | None
    strikes_since: datetime | None


_STANDING = (CITIZENS.c.id, CITIZENS.c.phone, CITIZENS.c.blocked_until, CITIZENS.c.strikes_since)


def standing(db: Executor, citizen_id: int) -> Standing:
    """The citizen's block and slate, as they stand in this transaction."""
    row = db.execute(select(*_STANDING).where(CITIZENS.c.id == citizen_id)).one()
    return Standing(*row)


def set_block(
    db: Executor, citizen_id: int, blocked_until: datetime | None, strikes_since: datetime
) -> None:
    """Block until `blocked_until` (None: lift the block) and wipe the slate at `strikes_since`."""
    db.execute(
        update(CITIZENS)
        .where(CITIZENS.c.id == citizen_id)
        .values(blocked_until=blocked_until, strikes_since=strikes_since)
    )


def record_consent(db: Executor, citizen_id: int, now: datetime) -> None:
    """The citizen's own act, their first booking: recorded once, never overwritten."""
    db.execute(
        update(CITIZENS)
        .where(CITIZENS.c.id == citizen_id, CITIZENS.c.consent_at.is_(None))
        .values(consent_at=now)
    )


def lock_ids(db: Executor, citizen_ids: Iterable[int], skip_locked: bool = False) -> list[int]:
    """Lock the rows that guard these persons, in id order, and return the persons now guarded;
    with `skip_locked`, only those free now (a sweep leaves a citizen busy with a request of
    its own to its next round).

    A dependant is guarded by their phone's holder, whose row every booking of the household
    locks first (`lock_row`); a holder, and a person without a phone, by their own row.
    """
    ids = sorted(set(citizen_ids))
    if not ids:
        return []
    guard = func.coalesce(CITIZENS.c.guardian_id, CITIZENS.c.id)
    guards = dict(db.execute(select(CITIZENS.c.id, guard).where(CITIZENS.c.id.in_(ids))).all())
    wanted = sorted(set(guards.values()))
    query = select(CITIZENS.c.id).where(CITIZENS.c.id.in_(wanted)).order_by(CITIZENS.c.id)
    locked = set(db.execute(query.with_for_update(skip_locked=skip_locked)).scalars())
    return [person for person in ids if guards.get(person) in locked]
