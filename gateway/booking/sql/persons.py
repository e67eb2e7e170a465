"""The persons of a phone: its holder ("Me") and dependants, read and changed under the
holder's row lock (`citizens.lock_row`), which every booking of the household takes first.

A dependant's `phone` is the holder's (the phone that reaches them); persons are never
deleted, only hidden, and a dependant who moves to a phone of their own stays behind, hidden,
with the bookings of their past (`moved_to` names the person who holds the new phone).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from gateway.booking.domain.errors import NotFound
from gateway.booking.domain.persons import NO_PHONE, Household, first_name
from gateway.booking.domain.states import BookingStatus
from gateway.booking.models import Booking, Citizen
from gateway.booking.sql.citizens import PERSON_COLUMNS, CitizenRow
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor
from gateway.booking.sql.transitions import changed

CITIZENS, BOOKINGS = Citizen.__table__, Booking.__table__

_OF_HOLDER = or_(
    CITIZENS.c.id == bindparam("holder"), CITIZENS.c.guardian_id == bindparam("holder")
)
_SHOWN = and_(CITIZENS.c.hidden_at.is_(None), CITIZENS.c.moved_to.is_(None))


@dataclass(frozen=True)
class PersonInfo:
    """A person as a phone's menus and the desk list them."""

    id: int
    name: str | None
    me: bool  # the phone's holder
    birth_year: int | None = None

    @property
    def first_name(self) -> str:
        return first_name(self.name)


# --- the household a booking reads ------------------------------------------------------------

_LIVE = (
    select(func.count())
    .select_from(BOOKINGS)
    .where(
        BOOKINGS.c.citizen_id.in_(select(CITIZENS.c.id).where(_OF_HOLDER)),
        # Live: still to come (a check-in is done with), and kept by the phone's owner.
        BOOKINGS.c.status == BookingStatus.CONFIRMED,
        ~BOOKINGS.c.unconfirmed,
    )
    .scalar_subquery()
)
_HOUSEHOLD = DriverStatement(
    select(*PERSON_COLUMNS, CITIZENS.c.hidden_at, CITIZENS.c.moved_to, _LIVE)
    .where(_OF_HOLDER)
    .order_by(CITIZENS.c.id)
)


def for_booking(
    db: Executor, holder: CitizenRow, person_id: int | None, now: datetime
) -> tuple[CitizenRow, Household | None]:
    """The person a booking of the holder's phone is for (None: "Me"), and the phone's
    household when it has dependants (else None: the phone's rules are the holder's own).

    One statement, and none at all for a phone that never added a dependant. Raises
    NotFound(what="person") for a person who is not a shown person of this phone.
    """
    if holder.persons_added == 0:
        if person_id not in (None, holder.id):
            raise NotFound(what="person")
        return holder, None
    rows = _HOUSEHOLD.run(db, {"holder": holder.id}).rows
    wanted = holder.id if person_id is None else person_id
    found = next((r for r in rows if r[0] == wanted and r[8] is None and r[9] is None), None)
    if found is None:
        raise NotFound(what="person")
    blocked = [r[4] for r in rows if r[4] is not None and r[4] > now]
    live = int(rows[0][10]) if rows else 0
    return CitizenRow(*found[:8]), Household(blocked_until=blocked, live_bookings=live)


# --- listing, adding, hiding --------------------------------------------------------------------


_SHOWN_BY_PHONE = DriverStatement(
    select(CITIZENS.c.id, CITIZENS.c.name, CITIZENS.c.guardian_id, CITIZENS.c.birth_year)
    # A dependant's phone is the holder's, so one indexed lookup finds the whole household.
    .where(CITIZENS.c.phone == bindparam("phone"), _SHOWN)
    .order_by(CITIZENS.c.guardian_id.is_not(None), CITIZENS.c.id)
)


def shown(db: Executor, phone: str) -> list[PersonInfo]:
    """The phone's shown persons: "Me" first, then dependants in the order they were added
    (one statement; [] for a phone never seen)."""
    rows = _SHOWN_BY_PHONE.run(db, {"phone": phone}).rows
    return [PersonInfo(pid, name, guardian is None, year) for pid, name, guardian, year in rows]


def all_of(db: Executor, holder_id: int) -> list[PersonInfo]:
    """Every person of the phone, hidden and moved ones too (their blocks still count)."""
    query = (
        select(CITIZENS.c.id, CITIZENS.c.name, CITIZENS.c.guardian_id, CITIZENS.c.birth_year)
        .where(_OF_HOLDER)
        .order_by(CITIZENS.c.guardian_id.is_not(None), CITIZENS.c.id)
    )
    rows = db.execute(query, {"holder": holder_id}).all()
    return [PersonInfo(pid, name, guardian is None, year) for pid, name, guardian, year in rows]


def holder_of(db: Executor, person_id: int) -> int | None:
    """The id of the row that guards a person: their holder, or their own (None: no person)."""
    query = select(func.coalesce(CITIZENS.c.guardian_id, CITIZENS.c.id)).where(
        CITIZENS.c.id == person_id
    )
    found = db.execute(query).scalar()
    return None if found is None else int(found)


def find(db: Executor, person_id: int) -> CitizenRow | None:
    row = db.execute(select(*PERSON_COLUMNS).where(CITIZENS.c.id == person_id)).first()
    return None if row is None else CitizenRow(*row)


def add_dependant(
    db: Executor, holder: CitizenRow, name: str, birth_year: int | None, now: datetime
) -> int:
    """Add a dependant under the (locked) holder, who counts one more person ever added."""
    person_id = _insert_person(db, holder.phone, holder.id, name, birth_year, now)
    db.execute(
        update(CITIZENS)
        .where(CITIZENS.c.id == holder.id)
        .values(persons_added=CITIZENS.c.persons_added + 1)
    )
    return int(person_id)


def count_shown_dependants(db: Executor, holder_id: int) -> int:
    query = select(func.count()).where(CITIZENS.c.guardian_id == holder_id, _SHOWN)
    return int(db.execute(query).scalar() or 0)


def hide(db: Executor, holder_id: int, person_id: int, now: datetime) -> bool:
    """Hide a shown dependant of the (locked) holder; False when there is none such."""
    statement = (
        update(CITIZENS)
        .where(CITIZENS.c.id == person_id, CITIZENS.c.guardian_id == holder_id, _SHOWN)
        .values(hidden_at=now)
    )
    return changed(db, statement)


def add_without_phone(db: Executor, name: str, birth_year: int | None, now: datetime) -> int:
    """A person with no phone at all, registered at the desk (their voucher is printed).

    Their `phone` is a placeholder that is no phone (`-` and random hex, unique like a
    holder's phone must be), so nothing is ever sent and no caller can match it."""
    return _insert_person(db, f"{NO_PHONE}{secrets.token_hex(8)}", None, name, birth_year, now)


def _insert_person(
    db: Executor,
    phone: str,
    guardian_id: int | None,
    name: str,
    birth_year: int | None,
    now: datetime,
) -> int:
    values = {
        "phone": phone,
        "guardian_id": guardian_id,
        "name": name,
        "birth_year": birth_year,
        "reminders_opt_out": False,
        "persons_added": 0,
        "created_at": now,
    }
    found = db.execute(insert(CITIZENS).values(**values).returning(CITIZENS.c.id)).scalar_one()
    return int(found)


def set_details(
    db: Executor, person_id: int, name: str | None = None, birth_year: int | None = None
) -> None:
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = name
    if birth_year is not None:
        values["birth_year"] = birth_year
    if values:
        db.execute(update(CITIZENS).where(CITIZENS.c.id == person_id).values(**values))


def lock_person(db: Executor, person_id: int) -> CitizenRow | None:
    """Lock a person's own row (a person without a phone is their own guard)."""
    row = db.execute(
        select(*PERSON_COLUMNS).where(CITIZENS.c.id == person_id).with_for_update()
    ).first()
    return None if row is None else CitizenRow(*row)
