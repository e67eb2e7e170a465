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
from gateway.booking.domain.persons import NO_PHONE, Household, first_name, is_erased
from gateway.booking.domain.states import BookingStatus, InvitationStatus
from gateway.booking.models import Booking, Citizen, Invitation, Slot
from gateway.booking.sql.citizens import PERSON_COLUMNS, CitizenRow
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor
from gateway.booking.sql.transitions import changed

CITIZENS, BOOKINGS, SLOTS = Citizen.__table__, Booking.__table__, Slot.__table__
INVITATIONS = Invitation.__table__

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
    blocked_until: datetime | None = None  # their own block (UTC), ended or not

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
    if is_erased(holder.phone):
        raise NotFound(what="person")
    if holder.persons_added == 0:
        if person_id not in (None, holder.id):
            raise NotFound(what="person")
        return holder, None
    members = _members(db, holder.id)
    wanted = holder.id if person_id is None else person_id
    found = next((m for m in members if m.person.id == wanted and m.shown), None)
    if found is None:
        raise NotFound(what="person")
    return found.person, _household(members, now)


def household_of_person(db: Executor, person: CitizenRow, now: datetime) -> Household | None:
    """The household of a person's phone (as `for_booking` reads it); None for a phone
    without dependants or a person without a phone."""
    if person.guardian_id is None and person.persons_added == 0:
        return None
    return _household(_members(db, person.guardian_id or person.id), now)


@dataclass(frozen=True)
class _Member:
    person: CitizenRow
    shown: bool  # neither hidden nor moved away
    moved: bool
    live_bookings: int  # of the whole household (the same on every row)


def _members(db: Executor, holder_id: int) -> list[_Member]:
    rows = _HOUSEHOLD.run(db, {"holder": holder_id}).rows
    width = len(PERSON_COLUMNS)
    return [
        _Member(
            person=CitizenRow(*row[:width]),
            shown=row[width] is None and row[width + 1] is None,
            moved=row[width + 1] is not None,
            live_bookings=int(row[width + 2]),
        )
        for row in rows
    ]


def _household(members: list[_Member], now: datetime) -> Household:
    # A person who moved to their own phone took their block along (operations.persons.move):
    # it counts there, not here as well.
    blocked = [
        m.person.blocked_until
        for m in members
        if not m.moved and m.person.blocked_until is not None and m.person.blocked_until > now
    ]
    live = members[0].live_bookings if members else 0
    return Household(blocked_until=blocked, live_bookings=live)


# --- listing, adding, hiding --------------------------------------------------------------------


_SHOWN_BY_PHONE = DriverStatement(
    select(
        CITIZENS.c.id,
        CITIZENS.c.name,
        CITIZENS.c.guardian_id,
        CITIZENS.c.birth_year,
        CITIZENS.c.blocked_until,
    )
    # A dependant's phone is the holder's, so one indexed lookup finds the whole household.
    .where(CITIZENS.c.phone == bindparam("phone"), _SHOWN)
    .order_by(CITIZENS.c.guardian_id.is_not(None), CITIZENS.c.id)
)


def shown(db: Executor, phone: str) -> list[PersonInfo]:
    """The phone's shown persons: "Me" first, then dependants in the order they were added
    (one statement; [] for a phone never seen)."""
    rows = _SHOWN_BY_PHONE.run(db, {"phone": phone}).rows
    return [
        PersonInfo(pid, name, guardian is None, year, blocked)
        for pid, name, guardian, year, blocked in rows
    ]


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


def add_without_phone(db: Executor, name: str | None, birth_year: int | None, now: datetime) -> int:
    """A person with no phone at all, registered at the desk (their voucher is printed); no
    name for a nameless walk-in (operations.walk_in).

    Their `phone` is a placeholder that is no phone (`-` and random hex, unique like a
    holder's phone must be), so nothing is ever sent and no caller can match it."""
    return _insert_person(db, f"{NO_PHONE}{secrets.token_hex(8)}", None, name, birth_year, now)


def _insert_person(
    db: Executor,
    phone: str,
    guardian_id: int | None,
    name: str | None,
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


def lock_guard(db: Executor, person_id: int) -> CitizenRow | None:
    """Lock the row that guards a person (their phone's holder, or their own) and return it;
    None when there is no such person."""
    guard = holder_of(db, person_id)
    return None if guard is None else lock_person(db, guard)


def lock_person(db: Executor, person_id: int) -> CitizenRow | None:
    """Lock a person's own row (a person without a phone is their own guard)."""
    row = db.execute(
        select(*PERSON_COLUMNS).where(CITIZENS.c.id == person_id).with_for_update()
    ).first()
    return None if row is None else CitizenRow(*row)


# --- a dependant moves to a phone of their own ---------------------------------------------------


def holder_id_by_phone(db: Executor, phone: str) -> int | None:
    query = select(CITIZENS.c.id).where(CITIZENS.c.phone == phone, CITIZENS.c.guardian_id.is_(None))
    found = db.execute(query).scalar()
    return None if found is None else int(found)


def is_shown_dependant(db: Executor, person_id: int, holder_id: int) -> bool:
    query = select(CITIZENS.c.id).where(
        CITIZENS.c.id == person_id, CITIZENS.c.guardian_id == holder_id, _SHOWN
    )
    return db.execute(query).first() is not None


def in_use(db: Executor, holder_id: int) -> bool:
    """Whether a phone's holder row is someone's already: bookings, invitations, dependants."""
    bookings = select(func.count()).where(BOOKINGS.c.citizen_id == holder_id)
    invitations = select(func.count()).where(INVITATIONS.c.citizen_id == holder_id)
    dependants = select(func.count()).where(CITIZENS.c.guardian_id == holder_id)
    counts = db.execute(
        select(
            bookings.scalar_subquery(),
            invitations.scalar_subquery(),
            dependants.scalar_subquery(),
        )
    ).one()
    return any(counts)


_IDENTITY = (
    CITIZENS.c.name,
    CITIZENS.c.birth_year,
    CITIZENS.c.national_id_hash,
    CITIZENS.c.national_id_key,
    CITIZENS.c.national_id_last3,
    CITIZENS.c.blocked_until,
    CITIZENS.c.strikes_since,
)


def move_identity(db: Executor, person_id: int, target_id: int, now: datetime) -> None:
    """The target holder becomes the person (name, birth year, ID, block); the old row is
    hidden, names where they went, and lets go of the ID first (it is unique)."""
    row = db.execute(select(*_IDENTITY).where(CITIZENS.c.id == person_id)).one()
    identity = {column.name: value for column, value in zip(_IDENTITY, row, strict=True)}
    db.execute(
        update(CITIZENS)
        .where(CITIZENS.c.id == person_id)
        .values(
            national_id_hash=None,
            national_id_key=None,
            national_id_last3=None,
            hidden_at=now,
            moved_to=target_id,
        )
    )
    db.execute(update(CITIZENS).where(CITIZENS.c.id == target_id).values(**identity))


def move_future(db: Executor, person_id: int, target_id: int, now: datetime) -> None:
    """The person's bookings still to come (confirmed, not started) and open invitations go
    to the target; checked-in, past and cancelled ones are history and stay."""
    future = BOOKINGS.c.slot_id.in_(select(SLOTS.c.id).where(SLOTS.c.starts_at > now))
    db.execute(
        update(BOOKINGS)
        .where(
            BOOKINGS.c.citizen_id == person_id,
            BOOKINGS.c.status == BookingStatus.CONFIRMED,
            future,
        )
        .values(citizen_id=target_id)
    )
    db.execute(
        update(INVITATIONS)
        .where(
            INVITATIONS.c.citizen_id == person_id,
            INVITATIONS.c.status == InvitationStatus.OPEN,
        )
        .values(citizen_id=target_id)
    )
