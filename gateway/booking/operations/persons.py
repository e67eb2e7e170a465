"""The persons of a phone: add a dependant (USSD or the desk), hide one, register a person
with no phone at the desk, and move a dependant to a phone of their own.

Every change to a household locks its holder's row first, as every booking of it does, so
the lifetime cap and the per-phone rules never count past a parallel request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select, update

from gateway.booking.domain.errors import InvalidRegistration, NotFound, PhoneInUse
from gateway.booking.domain.persons import check_can_add, clean_first_name
from gateway.booking.domain.states import BookingStatus, InvitationStatus
from gateway.booking.models import Booking, Citizen, Invitation, Slot
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.operations.registration import NationalId, register_id
from gateway.booking.sql import persons
from gateway.booking.sql.citizens import lock_row
from gateway.booking.sql.persons import PersonInfo
from gateway.settings import PersonRules

CITIZENS, BOOKINGS, SLOTS = Citizen.__table__, Booking.__table__, Slot.__table__
INVITATIONS = Invitation.__table__
EARLIEST_BIRTH_YEAR = 1900


def check_birth_year(year: int | None, now: datetime) -> int | None:
    if year is not None and not EARLIEST_BIRTH_YEAR <= year <= now.year:
        raise InvalidRegistration(field="birth_year")
    return year


def add(
    db: Connection,
    phone: str,
    raw_name: str,
    rules: PersonRules,
    now: datetime,
    birth_year: int | None = None,
    national_id: NationalId | None = None,
    actor: str | None = None,
) -> PersonInfo:
    """Add a dependant to the phone (created on first contact like any caller's); staff
    `actor` adding one at the desk is audited."""
    name = clean_first_name(raw_name, rules)
    check_birth_year(birth_year, now)
    holder = lock_row(db, phone, now)
    check_can_add(persons.count_shown_dependants(db, holder.id), holder.persons_added, rules)
    person_id = persons.add_dependant(db, holder, name, birth_year, now)
    if national_id is not None:
        register_id(db, person_id, national_id)
    if actor is not None:
        record_staff_action(db, actor, "add_person", str(person_id), "", now)
    return PersonInfo(person_id, name, me=False, birth_year=birth_year)


def shown(db: Connection, phone: str) -> list[PersonInfo]:
    """The phone's persons, "Me" first (a phone that never called has only "Me")."""
    return persons.shown(db, phone) or [PersonInfo(0, None, me=True)]


def hide(db: Connection, phone: str, person_id: int, now: datetime, actor: str | None) -> None:
    """Hide a dependant: never deleted, so their strikes and blocks still count for the phone."""
    holder = lock_row(db, phone, now)
    if not persons.hide(db, holder.id, person_id, now):
        raise NotFound(what="person")
    if actor is not None:
        record_staff_action(db, actor, "hide_person", str(person_id), "", now)


def register_without_phone(
    db: Connection,
    raw_name: str,
    rules: PersonRules,
    now: datetime,
    actor: str,
    birth_year: int | None = None,
    national_id: NationalId | None = None,
) -> PersonInfo:
    """A person with no phone at all, registered at the desk (their voucher is printed)."""
    name = clean_first_name(raw_name, rules) if national_id is None else " ".join(raw_name.split())
    check_birth_year(birth_year, now)
    person_id = persons.add_without_phone(db, name, birth_year, now)
    if national_id is not None:
        register_id(db, person_id, national_id)
    record_staff_action(db, actor, "register_person", str(person_id), "no phone", now)
    return PersonInfo(person_id, name, me=True, birth_year=birth_year)


def move(
    db: Connection, person_id: int, new_phone: str, now: datetime, actor: str, reason: str
) -> int:
    """Move a dependant to a phone of their own (staff at the desk); returns the person who
    now holds that phone.

    The new phone's holder takes the person's name, birth year, national ID and any block
    (a move never lifts one), and their future live bookings and open invitations; their
    history stays with the old row, hidden under the guardian's phone. Refused when the new
    phone already belongs to someone (a name, an ID, a booking or dependants of its own).
    """
    old = persons.find(db, person_id)
    if old is None or old.guardian_id is None:
        raise NotFound(what="person")
    guardian = persons.find(db, old.guardian_id)
    assert guardian is not None
    # Both holders in one order (by phone), so two moves crossing the same pair never deadlock.
    for phone in sorted({guardian.phone, new_phone}):
        lock_row(db, phone, now)
    target = lock_row(db, new_phone, now)
    current = persons.find(db, person_id)
    if current is None or current.guardian_id is None or target.id == current.guardian_id:
        raise NotFound(what="person")
    if _in_use(db, target.id) or target.name or target.national_id_hash:
        raise PhoneInUse()
    moved = db.execute(
        select(
            CITIZENS.c.national_id_hash,
            CITIZENS.c.national_id_key,
            CITIZENS.c.national_id_last3,
            CITIZENS.c.blocked_until,
            CITIZENS.c.strikes_since,
        ).where(CITIZENS.c.id == person_id)
    ).one()
    db.execute(
        update(CITIZENS)
        .where(CITIZENS.c.id == person_id)
        .values(
            national_id_hash=None,
            national_id_key=None,
            national_id_last3=None,
            hidden_at=now,
            moved_to=target.id,
        )
    )
    db.execute(
        update(CITIZENS)
        .where(CITIZENS.c.id == target.id)
        .values(
            name=current.name,
            birth_year=current.birth_year,
            national_id_hash=moved[0],
            national_id_key=moved[1],
            national_id_last3=moved[2],
            blocked_until=moved[3],
            strikes_since=moved[4],
        )
    )
    # The future: confirmed and not started (a check-in or a past slot is history).
    future = BOOKINGS.c.slot_id.in_(select(SLOTS.c.id).where(SLOTS.c.starts_at > now))
    db.execute(
        update(BOOKINGS)
        .where(
            BOOKINGS.c.citizen_id == person_id,
            BOOKINGS.c.status == BookingStatus.CONFIRMED,
            future,
        )
        .values(citizen_id=target.id)
    )
    db.execute(
        update(INVITATIONS)
        .where(INVITATIONS.c.citizen_id == person_id, INVITATIONS.c.status == InvitationStatus.OPEN)
        .values(citizen_id=target.id)
    )
    record_staff_action(db, actor, "move_person", str(person_id), reason, now)
    return target.id


def _in_use(db: Connection, holder_id: int) -> bool:
    """Whether a phone's holder row is someone's already: bookings, invitations, dependants."""
    bookings = select(func.count()).where(BOOKINGS.c.citizen_id == holder_id)
    invitations = select(func.count()).where(INVITATIONS.c.citizen_id == holder_id)
    dependants = select(func.count()).where(CITIZENS.c.guardian_id == holder_id)
    counts = db.execute(
        select(
            bookings.scalar_subquery(), invitations.scalar_subquery(), dependants.scalar_subquery()
        )
    ).one()
    return any(counts)
